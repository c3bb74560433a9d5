"""Every metric of a set of simulated dialogues, as one JSON-ready dict (``summary.json``).

Sections: ``emotion`` (final, success, failure, AUC, each by need), ``profile`` and ``timing``
(act profile, first act, advice before understanding, turns to first advice), ``grounding``
(grounding acts per turn and the gap to human reference figures), ``ambiguity`` (ask rate on
ambiguous requests, direct-answer rate on clear ones, F1) and ``facts`` (hidden facts uncovered).
Every figure is an :class:`~attunement.stats.Estimate` dumped to a dict, with its 95% interval
from a bootstrap clustered by scenario.

``HEADLINE`` names the figures a summary table shows (CLI, demo, report), so every table shows
the same rows with the same formatting: :func:`headline` turns a summary into those strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from attunement.coding.taxonomy import ACTS
from attunement.metrics.ambiguity import ambiguity_summary
from attunement.metrics.emotion import emotion_by_need, emotion_summary
from attunement.metrics.facts import facts_summary
from attunement.metrics.grounding import coded_turns
from attunement.metrics.profile import behaviour_profile, behaviour_sections, reference_rates
from attunement.metrics.reference import grounding_gap
from attunement.stats import Estimate, bootstrap_mean
from attunement.types import Conversation


def _jsonable(obj: Any) -> Any:
    """Estimates (and any pydantic model) to dicts, recursively."""
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return obj


def first_act_shares(
    conversations: Sequence[Conversation], *, seed: int = 0
) -> dict[str, Estimate]:
    """Share of dialogues whose first assistant turn opens with each act (acts that occur).

    >>> from attunement.types import ActSpan, CodedUtterance, Conversation, Turn
    >>> codes = CodedUtterance(text="Try this.", spans=[
    ...     ActSpan(start=0, end=9, text="Try this.", act="advise")])
    >>> c = Conversation(id="d", turns=[Turn(index=0, role="assistant", content="x", codes=codes)])
    >>> first_act_shares([c])["advise"].value
    1.0
    """
    firsts: list[tuple[str, str]] = []
    for conv in conversations:
        turns = coded_turns(conv)
        if turns and turns[0].codes is not None and turns[0].codes.spans:
            firsts.append((turns[0].codes.spans[0].act, conv.scenario_id or conv.id))
    clusters = [k for _, k in firsts]
    return {
        act: bootstrap_mean([float(a == act) for a, _ in firsts], clusters, seed=seed)
        for act in ACTS
        if any(a == act for a, _ in firsts)
    }


def behaviour_summary(conversations: Sequence[Conversation], *, seed: int = 0) -> dict[str, Any]:
    """Act profile, timing and grounding (from the coder's codes), with the grounding gap to
    the human reference figures, clustered by scenario."""
    sections = behaviour_sections(conversations, cluster_by="scenario", seed=seed)
    profile = behaviour_profile(conversations, cluster_by="scenario", seed=seed)
    sections["timing"]["first_act"] = first_act_shares(conversations, seed=seed)
    sections["grounding"]["gap"] = grounding_gap(reference_rates(profile))
    return sections


def summarise(conversations: Sequence[Conversation], *, seed: int = 0) -> dict[str, Any]:
    """All metrics of ``conversations`` as a JSON-ready dict (see the module docstring).

    >>> from attunement.types import Conversation
    >>> s = summarise([Conversation(id="a", scenario_id="a", need="vent", emotion_final=70.0)])
    >>> s["emotion"]["final_emotion"]["value"], list(s["emotion"]["by_need"])
    (70.0, ['vent'])
    """
    emotion: dict[str, Any] = dict(emotion_summary(conversations, seed=seed))
    emotion["by_need"] = emotion_by_need(conversations, seed=seed)
    out: dict[str, Any] = {
        "dialogues": len(conversations),
        "errors": sum(1 for c in conversations if c.error is not None),
        "end_reasons": _count(c.end_reason or "none" for c in conversations),
        "emotion": emotion,
        "ambiguity": ambiguity_summary(conversations, seed=seed),
        "facts": facts_summary(conversations, seed=seed),
        "usage": usage_summary(conversations),
    }
    out.update(behaviour_summary(conversations, seed=seed))
    return _jsonable(out)


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return dict(sorted(out.items()))


def usage_summary(conversations: Sequence[Conversation]) -> dict[str, float]:
    """Mean model calls and tokens per dialogue, for the policy and for the user (cost)."""
    n = max(len(conversations), 1)
    sums = {
        "policy_calls": 0,
        "policy_prompt_tokens": 0,
        "policy_completion_tokens": 0,
        "user_calls": 0,
        "user_prompt_tokens": 0,
        "user_completion_tokens": 0,
    }
    for conv in conversations:
        for turn in conv.turns:
            if turn.usage is None:
                continue
            who = "policy" if turn.role == "assistant" else "user"
            sums[f"{who}_calls"] += turn.usage.calls
            sums[f"{who}_prompt_tokens"] += turn.usage.prompt_tokens
            sums[f"{who}_completion_tokens"] += turn.usage.completion_tokens
    return {f"{k}_per_dialogue": v / n for k, v in sums.items()}


# ----------------------------------------------------------------------------- headline table
@dataclass(frozen=True)
class HeadlineRow:
    """One row of a summary table: where the Estimate lives in a summary, how to print it."""

    label: str
    path: tuple[str, ...]
    scale: float = 1.0
    digits: int = 2


HEADLINE: tuple[HeadlineRow, ...] = (
    HeadlineRow("final emotion (0-100)", ("emotion", "final_emotion"), 1.0, 1),
    HeadlineRow("success %", ("emotion", "success_rate"), 100.0, 0),
    HeadlineRow("failure %", ("emotion", "failure_rate"), 100.0, 0),
    HeadlineRow("emotion AUC (0-100)", ("emotion", "emotion_auc"), 1.0, 1),
    HeadlineRow("advice before understanding %", ("timing", "advice_before_understanding"), 100, 0),
    HeadlineRow("asks on ambiguous %", ("ambiguity", "ask_rate_ambiguous"), 100.0, 0),
    HeadlineRow("answers clear directly %", ("ambiguity", "direct_rate_clear"), 100.0, 0),
    HeadlineRow("ask F1", ("ambiguity", "ask_f1"), 1.0, 2),
    HeadlineRow("grounding acts / turn", ("grounding", "acts_per_turn"), 1.0, 2),
    HeadlineRow("hidden facts uncovered %", ("facts", "facts_uncovered_rate"), 100.0, 0),
)


def lookup(summary: Mapping[str, Any], path: Sequence[str]) -> Any:
    """The value at ``path`` in a nested summary dict (None when any step is missing)."""
    node: Any = summary
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def headline(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, formatted value with CI) for each HEADLINE row; accepts summary.json or its
    ``metrics`` part.

    >>> rows = headline({"emotion": {"final_emotion": {"value": 61.0, "low": 55.2, "high": 66.0}}})
    >>> rows[0]
    ('final emotion (0-100)', '61.0 [55.2, 66.0]')
    """
    metrics = summary.get("metrics", summary)
    rows = []
    for row in HEADLINE:
        raw = lookup(metrics, row.path)
        text = "n/a"
        if isinstance(raw, Mapping):
            text = Estimate.model_validate(raw).fmt(row.digits, row.scale)
        rows.append((row.label, text))
    return rows
