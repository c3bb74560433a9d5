"""``report.html`` of a run folder: one self-contained page (no network, no scripts).

Sections: the run (models, suite, seeds, hashes, versions), headline metrics with 95%
intervals (the same rows as every summary table, ``metrics.summary.HEADLINE``), a breakdown by
hidden need, the act profile and timing, grounding acts per turn beside the human reference
figures, the mean emotion trajectory per need, and the transcript viewer
(:mod:`attunement.report.transcript`). Figures come from ``summary.json``; the trajectories and
transcripts from ``conversations.jsonl``. Every string from input is HTML-escaped.

Example:
    >>> from attunement.types import Conversation
    >>> page = render_report([Conversation(id="d1")], {}, None)
    >>> page.startswith("<!DOCTYPE html>") and "d1" in page
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from attunement.coding.taxonomy import ACT_GROUP, ACTS, GROUPS
from attunement.errors import InputError
from attunement.metrics.emotion import scored
from attunement.metrics.summary import HeadlineRow, headline, lookup
from attunement.report.style import (
    GROUP_COLORS,
    NEED_COLORS,
    REFERENCE_COLOR,
    act_color,
    style_block,
)
from attunement.report.svg import Bar, Series, bar_chart, line_chart
from attunement.report.transcript import esc, render_transcripts
from attunement.stats import Estimate
from attunement.types import NEEDS, Conversation, RunConfig

BY_NEED_COLUMNS: tuple[HeadlineRow, ...] = (
    HeadlineRow("final emotion", ("final_emotion",), 1.0, 1),
    HeadlineRow("success %", ("success_rate",), 100.0, 0),
    HeadlineRow("failure %", ("failure_rate",), 100.0, 0),
    HeadlineRow("emotion AUC", ("emotion_auc",), 1.0, 1),
)
TIMING_ROWS: tuple[HeadlineRow, ...] = (
    HeadlineRow("advice before understanding %", ("timing", "advice_before_understanding"), 100),
    HeadlineRow("understanding before solving %", ("timing", "understanding_before_solve"), 100),
    HeadlineRow("dialogues with advice %", ("timing", "dialogues_with_advice"), 100),
    HeadlineRow("turns to first advice", ("timing", "turns_to_first_advise"), 1.0, 1),
    HeadlineRow("P(advise | user disclosed)", ("profile", "p_advise_given_disclosure")),
    HeadlineRow("P(advise | no disclosure)", ("profile", "p_advise_given_no_disclosure")),
)


def _fmt(raw: Any, row: HeadlineRow) -> str:
    if not isinstance(raw, Mapping):
        return "n/a"
    return Estimate.model_validate(raw).fmt(row.digits, row.scale)


def _bar(label: str, raw: Any, color: str, *, muted: bool = False, note: str = "") -> Bar:
    est = Estimate.model_validate(raw) if isinstance(raw, Mapping) else Estimate(value=None)
    return Bar(label, est.value, est.low, est.high, color=color, muted=muted, note=note)


NUM = ' class="num"'


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], *, num_from: int = 1) -> str:
    """A table of already-escaped cells; columns from ``num_from`` on are right-aligned."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(f"<td{NUM if i >= num_from else ''}>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>"


# ----------------------------------------------------------------------------- sections
def header_html(config: RunConfig | None, metrics: Mapping[str, Any], n_convs: int) -> str:
    """Title and the run's configuration: what was run, with which seeds and versions."""
    if config is None:
        return "<h1>attune report</h1>"
    rows = [
        ("model under test", config.model),
        ("simulated user", config.user),
        ("coder", config.coder),
        ("suite", config.suite + (f" (first {config.limit})" if config.limit else "")),
        ("epochs / seed", f"{config.epochs} / {config.seed}"),
        ("generation", f"temperature {config.temperature}, max {config.max_tokens} tokens"),
        ("max turns", "per scenario" if config.max_turns is None else str(config.max_turns)),
        ("config hash", config.config_hash()),
        ("scenario bank hash", (config.scenario_bank_hash or "-")[:16]),
        ("versions", ", ".join(f"{k} {v}" for k, v in config.versions.items()) or "-"),
    ]
    ends = metrics.get("end_reasons") or {}
    rows.append(("dialogues", f"{n_convs} ({metrics.get('errors', 0)} failed)"))
    if ends:
        rows.append(("end reasons", ", ".join(f"{k} {v}" for k, v in ends.items())))
    cells = "".join(f"<tr><td>{esc(k)}</td><td><code>{esc(v)}</code></td></tr>" for k, v in rows)
    return f'<h1>attune report: {esc(config.model)}</h1><table class="meta">{cells}</table>'


def headline_html(metrics: Mapping[str, Any]) -> str:
    """The HEADLINE rows of every summary table, with 95% intervals."""
    rows = [(esc(label), esc(text)) for label, text in headline(metrics)]
    return (
        "<h2>Headline metrics</h2>"
        '<p class="lead">Point estimate [95% bootstrap interval, clustered by scenario].</p>'
        + _table(("metric", "value [95% CI]"), rows)
    )


def by_need_html(metrics: Mapping[str, Any]) -> str:
    """Emotion outcomes and facts uncovered per hidden need."""
    by_need = lookup(metrics, ("emotion", "by_need")) or {}
    facts = lookup(metrics, ("facts", "by_need")) or {}
    rows = []
    for need in [n for n in NEEDS if n in by_need] + [n for n in by_need if n not in NEEDS]:
        part = by_need[need]
        n = (part.get("final_emotion") or {}).get("n", "")
        cells = [_fmt(lookup(part, c.path), c) for c in BY_NEED_COLUMNS]
        cells.append(_fmt(facts.get(need), HeadlineRow("", (), 100.0, 0)))
        rows.append((esc(need), *(esc(c) for c in cells), esc(n)))
    if not rows:
        return "<h2>By hidden need</h2><p>No scored dialogues.</p>"
    head = ("need", *(esc(c.label) for c in BY_NEED_COLUMNS), "facts uncovered %", "n")
    return "<h2>By hidden need</h2>" + _table(head, rows)


def profile_html(metrics: Mapping[str, Any]) -> str:
    """Act profile (share of sentences), group presence per turn, first act and timing."""
    shares = lookup(metrics, ("profile", "act_share")) or {}
    groups = lookup(metrics, ("profile", "group_turn_rate")) or {}
    first = lookup(metrics, ("timing", "first_act")) or {}
    act_bars = [
        _bar(f"{act} ({ACT_GROUP[act][:3]})", shares.get(act), act_color(act))
        for act in ACTS
        if act in shares
    ]
    group_bars = [_bar(g, groups.get(g), GROUP_COLORS[g]) for g in GROUPS if g in groups]
    first_bars = [_bar(a, first[a], act_color(a)) for a in ACTS if a in first]
    charts = []
    if act_bars:
        charts.append(
            _figure(
                bar_chart(act_bars, title="act share of coded sentences"),
                "Acts: share of all coded assistant sentences, with 95% intervals.",
            )
        )
    if group_bars:
        charts.append(
            _figure(
                bar_chart(group_bars, max_value=1.0, title="turns with each group"),
                "Groups: share of assistant turns with at least one act of the group.",
            )
        )
    if first_bars:
        charts.append(
            _figure(
                bar_chart(first_bars, max_value=1.0, title="first act"),
                "The act each dialogue's first assistant turn opens with.",
            )
        )
    timing = [(esc(r.label), esc(_fmt(lookup(metrics, r.path), r))) for r in TIMING_ROWS]
    return (
        "<h2>Act profile and timing</h2>"
        + (f'<div class="grid">{"".join(charts)}</div>' if charts else "<p>No coded turns.</p>")
        + _table(("timing", "value [95% CI]"), timing)
    )


def grounding_html(metrics: Mapping[str, Any]) -> str:
    """Grounding acts per turn beside the human reference figures (the grounding gap)."""
    gap = lookup(metrics, ("grounding", "gap")) or []
    per_turn = lookup(metrics, ("grounding", "per_turn")) or {}
    bars: list[Bar] = []
    rows = []
    for row in gap:
        measure, rate = str(row.get("measure", "?")), row.get("rate")
        human = [r for r in row.get("references") or [] if r.get("kind") == "human"]
        if human:
            bars.append(_bar(f"{measure}: this run", rate, "#37474f"))
            for ref in human:
                bars.append(
                    Bar(ref["population"], ref["value"], color=REFERENCE_COLOR, muted=True,
                        note=f" ({ref['unit']})")
                )  # fmt: skip
        for i, ref in enumerate(row.get("references") or [None]):
            first = (esc(measure), esc(_fmt(rate, HeadlineRow("", ())))) if i == 0 else ("", "")
            if ref is None:
                rows.append((*first, "-", "", "", ""))
                continue
            vs = ref.get("vs_human")
            published = ref.get("kind") == "llm_vs_human"
            value = f"{ref['value']:+.1%}" if published else f"{ref['value']:.3f}"
            pop = ref["population"] + (" (published LLM gap)" if published else "")
            rows.append(
                (*first, esc(pop), esc(value), "" if vs is None else esc(f"{vs:+.0%}"),
                 f'<span title="{esc(ref.get("source", ""))}">{esc(ref.get("unit", ""))}</span>')
            )  # fmt: skip
    kinds = [(esc(k), esc(_fmt(v, HeadlineRow("", ())))) for k, v in per_turn.items()]
    out = [
        "<h2>Grounding and the human references</h2>",
        '<p class="lead">Per assistant turn. Human figures are from published corpora; units '
        "differ (share of turns vs share of utterances): hover a unit for its source.</p>",
    ]
    if kinds:
        out.append(_table(("grounding act", "per turn [95% CI]"), kinds))
    if bars:
        out.append(
            _figure(
                bar_chart(bars, label_width=230, width=640, title="run vs human references"),
                "Dark: this run with its 95% interval; grey: human reference rates.",
            )
        )
    if rows:
        head = ("measure", "this run", "reference", "ref.", "run vs ref.", "unit")
        out.append(_table(head, rows, num_from=3))
    return "".join(out)


def emotion_trajectories(
    conversations: Sequence[Conversation],
) -> dict[str, tuple[list[float], int]]:
    """Mean emotion per step (start, then after each user reaction) for each hidden need.

    Dialogues that ended early are held at their final value up to the longest one (as the
    AUC does), so the curve does not jump when a happy dialogue leaves. Errored ones are out.

    >>> from attunement.types import Conversation, Turn
    >>> a = Conversation(id="a", need="vent", emotion_start=40.0, turns=[
    ...     Turn(index=1, role="user", content="", emotion=60.0)])
    >>> b = Conversation(id="b", need="vent", emotion_start=20.0)
    >>> emotion_trajectories([a, b])["vent"]
    ([30.0, 40.0], 2)
    """
    out: dict[str, tuple[list[float], int]] = {}
    convs = scored(conversations) or [c for c in conversations if c.error is None]
    for need in [*NEEDS, None]:
        trajs = [c.emotions for c in convs if c.need == need and c.emotions]
        if not trajs:
            continue
        length = max(len(t) for t in trajs)
        padded = [t + [t[-1]] * (length - len(t)) for t in trajs]
        means = [sum(col) / len(col) for col in zip(*padded, strict=True)]
        out[need or "unknown"] = (means, len(trajs))
    return out


def trajectory_html(conversations: Sequence[Conversation], config: RunConfig | None) -> str:
    """The mean emotion line per need (an inline SVG line chart)."""
    trajs = emotion_trajectories(conversations)
    if not trajs:
        return "<h2>Emotion over the dialogue</h2><p>No emotion recorded.</p>"
    series = [
        Series(need, means, NEED_COLORS.get(need, "#616161"), n)
        for need, (means, n) in trajs.items()
    ]
    guides: list[tuple[float, str]] = []
    if config is not None and config.user == "structural":
        from attunement.simulate.rules import FAILURE_AT, SUCCESS_AT

        guides = [(SUCCESS_AT, "satisfied"), (FAILURE_AT, "gives up")]
    chart = line_chart(
        series, guides=guides, x_label="user reactions", title="mean emotion by hidden need"
    )
    return "<h2>Emotion over the dialogue</h2>" + _figure(
        chart,
        "Mean emotion (0-100) at the start and after each user reaction, per hidden need; "
        "dialogues that ended early are held at their final value.",
    )


def skipped_html(skipped: Sequence[InputError], notes: Sequence[str]) -> str:
    """Lines of the input that could not be read, and other notes about this report."""
    items = [f"<li>{esc(n)}</li>" for n in notes]
    items += [f"<li>skipped {esc(err)}</li>" for err in skipped]
    if not items:
        return ""
    return f'<div class="note"><b>Notes on the input</b><ul>{"".join(items)}</ul></div>'


def render_report(
    conversations: Sequence[Conversation],
    summary: Mapping[str, Any],
    config: RunConfig | None,
    *,
    skipped: Sequence[InputError] = (),
    notes: Sequence[str] = (),
) -> str:
    """The whole page as a string: pure, no I/O (see :func:`attunement.report.write_report`).

    Args:
        conversations: the dialogues (transcripts and trajectories).
        summary: ``summary.json`` (or its ``metrics`` part); missing figures show as n/a.
        config: the run's configuration for the header (None: no header table).
        skipped: lines of the input that were skipped, listed in a note.
        notes: other notes to show at the top (e.g. "summary recomputed").
    """
    metrics = summary.get("metrics", summary)
    title = f"attune report: {config.model}" if config is not None else "attune report"
    body = [
        header_html(config, metrics, len(conversations)),
        skipped_html(skipped, notes),
        headline_html(metrics),
        by_need_html(metrics),
        trajectory_html(conversations, config),
        profile_html(metrics),
        grounding_html(metrics),
        f"<h2>Transcripts ({len(conversations)})</h2>",
        '<p class="lead">Assistant sentences are coloured by act (hover for act and '
        "confidence); user turns show the emotion after reacting, its change and the rules "
        "that moved it.</p>",
        render_transcripts(conversations),
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)}</title>{style_block()}</head><body>"
        + "".join(body)
        + "</body></html>\n"
    )
