"""The transcript viewer: every dialogue as a collapsible block, sentences coloured by act.

Assistant turns show each coded sentence in its act's colour (hover: act and confidence);
user turns show the emotion after reacting, its change and the rules that moved it (why the
score moved), and the hidden facts revealed. Every string from a model, a user, a scenario or
a coder goes through ``html.escape`` (:func:`esc`); only constants build markup.

>>> from attunement.types import Turn
>>> "&lt;b&gt;" in render_turn(Turn(index=0, role="user", content="<b>"))
True
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from attunement.coding.taxonomy import ACT_DEFINITIONS, ACT_GROUP, GROUP_ACTS, GROUP_DEFINITIONS
from attunement.metrics.emotion import outcome
from attunement.report.style import NEED_COLORS, act_class, act_color, swatch
from attunement.report.svg import sparkline
from attunement.types import CodedUtterance, Conversation, Turn


def esc(value: object) -> str:
    """HTML-escape anything (quotes too), for text and attribute values alike."""
    return html.escape(str(value), quote=True)


def act_legend() -> str:
    """Every act with its colour, group and definition (from the taxonomy's tables)."""
    parts = ['<div class="legend">']
    for group, acts in GROUP_ACTS.items():
        for act in acts:
            parts.append(
                f'<div>{swatch(act)}<span><b>{esc(act)}</b> <span class="grp">{esc(group)}'
                f"</span>: {esc(ACT_DEFINITIONS[act])}</span></div>"
            )
    parts.append("</div>")
    groups = "; ".join(f"<b>{esc(g)}</b>: {esc(d)}" for g, d in GROUP_DEFINITIONS.items())
    parts.append(f'<p class="lead">{groups}.</p>')
    return "".join(parts)


def coded_html(codes: CodedUtterance, content: str) -> str:
    """The utterance with each coded sentence wrapped in its act's colour.

    Spans index into ``codes.text``; when they do not line up with it (a hand-edited file),
    the sentences are shown one after another instead, still coloured.
    """
    text = codes.text or content
    spans = sorted(codes.spans, key=lambda s: (s.start, s.end))
    aligned = all(0 <= s.start <= s.end <= len(text) for s in spans) and all(
        a.end <= b.start for a, b in zip(spans, spans[1:], strict=False)
    )
    out: list[str] = []
    pos = 0
    for span in spans:
        piece = text[span.start : span.end] if aligned else span.text
        if aligned:
            out.append(esc(text[pos : span.start]))
            pos = span.end
        elif out:
            out.append(" ")
        tip = f"{span.act} ({ACT_GROUP.get(span.act, '?')}), confidence {span.confidence:.2f}"
        out.append(f'<span class="{act_class(span.act)}" title="{esc(tip)}">{esc(piece)}</span>')
    if aligned:
        out.append(esc(text[pos:]))
    return "".join(out)


def _act_tags(codes: CodedUtterance) -> str:
    return "".join(
        f'<span class="acttag" style="background:{esc(act_color(a))}">{esc(a)}</span>'
        for a in codes.acts
    )


def _reason_html(reason: str) -> str:
    rule, sep, why = reason.partition(": ")
    if not sep:
        return f"<li>{esc(reason)}</li>"
    return f"<li><code>{esc(rule)}</code> {esc(why)}</li>"


def _delta_html(delta: float | None) -> str:
    if delta is None:
        return ""
    cls = "up" if delta > 0 else "down" if delta < 0 else ""
    return f' <span class="{cls}">({delta:+.1f})</span>'


def render_turn(turn: Turn, *, emotion_start: float | None = None) -> str:
    """One turn as a list item (user, assistant or system)."""
    role = turn.role if turn.role in ("user", "assistant", "system") else "system"
    head = [f"<b>{esc(role)}</b>", f"turn {turn.index}"]
    body: list[str] = []
    if role == "assistant" and turn.codes is not None and not turn.codes.failed:
        head.append(_act_tags(turn.codes))
        said = coded_html(turn.codes, turn.content)
    else:
        said = esc(turn.content)
    if role == "assistant" and turn.codes is not None and turn.codes.failed:
        body.append(f'<div class="err">coding failed: {esc(turn.codes.error)}</div>')
    if turn.reward is not None:
        head.append(f"reward {turn.reward:+.3f}")
    if role == "user":
        if turn.emotion is not None:
            head.append(f"emotion <b>{turn.emotion:.1f}</b>{_delta_html(turn.emotion_delta)}")
        elif emotion_start is not None and turn.index == 0:
            head.append(f"emotion at start <b>{emotion_start:.1f}</b>")
        if turn.reasons:
            body.append(
                '<ul class="reasons">' + "".join(_reason_html(r) for r in turn.reasons) + "</ul>"
            )
        if turn.facts_revealed:
            chips = "".join(f'<span class="fact">{esc(f)}</span>' for f in turn.facts_revealed)
            body.append(f'<div class="facts">facts revealed: {chips}</div>')
    if turn.latency is not None and turn.latency >= 0.005:
        head.append(f"{turn.latency:.2f}s")
    if turn.usage is not None and turn.usage.total_tokens:
        head.append(f"{turn.usage.total_tokens} tokens")
    if turn.error:
        body.append(f'<div class="err">error: {esc(turn.error)}</div>')
    return (
        f'<li class="turn {role}"><div class="who">{"".join(f"<span>{h}</span>" for h in head)}'
        f'</div><div class="said">{said}</div>{"".join(body)}</li>'
    )


def _fmt(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f}"


def render_conversation(conv: Conversation, *, open_: bool = False) -> str:
    """One dialogue as a ``<details>`` block: a one-line summary, then every turn."""
    color = NEED_COLORS.get(conv.need or "", "#616161")
    kind = {"success": "ok", "failure": "err"}.get(outcome(conv), "")
    status = (
        f'<span class="pill err">error: {esc(conv.error)}</span>'
        if conv.error
        else f'<span class="pill {kind}">{esc(conv.end_reason or "unfinished")}</span>'
    )
    facts = (
        f"facts {len(conv.facts_uncovered)}/{conv.facts_total}" if conv.facts_total else "no facts"
    )
    summary = [
        f'<span class="cid">{esc(conv.id)}</span>',
        f'<span class="pill" style="background:{esc(color)}22">{esc(conv.need or "?")}</span>',
        f"<span>{esc(conv.domain or '')}</span>",
        status,
        f"<span>emotion {_fmt(conv.emotion_start)} &rarr; <b>{_fmt(conv.emotion_final)}</b></span>",
        sparkline(conv.emotions, color=color),
        f"<span>{esc(facts)}</span>",
        f"<span>{len(conv.assistant_turns())} replies</span>",
    ]
    meta = [
        f"scenario <code>{esc(conv.scenario_id or '-')}</code>",
        f"epoch {conv.epoch}",
        f"seed {esc(conv.seed)}",
        f"policy <code>{esc(conv.policy or '-')}</code>",
        f"user <code>{esc(conv.user or '-')}</code>",
        f"coder <code>{esc(conv.coder or '-')}</code>",
    ]
    if conv.facts_uncovered:
        found = ", ".join(f"<code>{esc(f)}</code>" for f in conv.facts_uncovered)
        meta.append(f"uncovered: {found}")
    turns = "".join(render_turn(t, emotion_start=conv.emotion_start) for t in conv.turns)
    return (
        f'<details class="conv" id="{esc("conv-" + conv.id)}"{" open" if open_ else ""}>'
        f"<summary>{''.join(summary)}</summary>"
        f'<div class="convmeta">{" &middot; ".join(meta)}</div>'
        f'<ol class="turns">{turns}</ol></details>'
    )


def render_transcripts(conversations: Sequence[Conversation]) -> str:
    """The legend, then every dialogue (the first one open)."""
    blocks = [render_conversation(c, open_=i == 0) for i, c in enumerate(conversations)]
    return act_legend() + "".join(blocks)
