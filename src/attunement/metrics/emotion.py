"""Emotion outcomes of simulated dialogues: final emotion, success, failure, area under the curve.

Final emotion is SAGE's score (0-100, mean over dialogues); success and failure are the shares
of dialogues that ended in the user's top or bottom band (``END_OUTCOME``); the AUC is the mean
emotion over the whole dialogue (trapezoid area under the trajectory divided by its length),
with a dialogue that ended early held at its final value up to its turn limit, so ending early
on a high note is not penalised and ending early on a low one is not excused.

Every figure is an :class:`~attunement.stats.Estimate` with a 95% bootstrap interval clustered
by scenario (epochs of one scenario are not independent). Dialogues with ``error`` set are left
out (``scored``) and counted by the summary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

from attunement.stats import Estimate, bootstrap_mean
from attunement.types import NEEDS, Conversation

Outcome = Literal["success", "failure", "neutral"]

END_OUTCOME: dict[str, Outcome] = {
    "success": "success",
    "need_met": "success",
    "failure": "failure",
    "goodbye": "neutral",
    "max_turns": "neutral",
}
"""How each ``end_reason`` counts: success = top band or need met, failure = bottom band."""


def scored(conversations: Sequence[Conversation]) -> list[Conversation]:
    """Dialogues that finished without error and have an emotion to score."""
    return [c for c in conversations if c.error is None and c.emotion_final is not None]


def outcome(conv: Conversation) -> Outcome:
    """success / failure / neutral for one dialogue, from its end reason."""
    return END_OUTCOME.get(conv.end_reason or "", "neutral")


def emotion_auc(conv: Conversation) -> float | None:
    """Mean emotion over the dialogue (0-100), padded with the final value to the turn limit.

    >>> from attunement.types import Conversation, Turn
    >>> c = Conversation(id="d", emotion_start=40, metadata={"max_turns": 2}, turns=[
    ...     Turn(index=0, role="user", content="hi"),
    ...     Turn(index=1, role="assistant", content="..."),
    ...     Turn(index=2, role="user", content="ok", emotion=60)])
    >>> emotion_auc(c)  # trajectory 40, 60, 60: areas 50 and 60, mean 55
    55.0
    """
    traj = conv.emotions
    if not traj:
        return None
    limit = conv.metadata.get("max_turns")
    if isinstance(limit, int) and len(traj) < limit + 1:
        traj = traj + [traj[-1]] * (limit + 1 - len(traj))
    if len(traj) == 1:
        return float(traj[0])
    area = sum((a + b) / 2 for a, b in zip(traj, traj[1:], strict=False))
    return area / (len(traj) - 1)


def _mean_of(
    convs: Sequence[Conversation], fn: Callable[[Conversation], float | None], seed: int
) -> Estimate:
    pairs = [(fn(c), c.scenario_id or c.id) for c in convs]
    pairs = [(v, k) for v, k in pairs if v is not None]
    return bootstrap_mean([v for v, _ in pairs], [k for _, k in pairs], seed=seed)


def final_emotion(conversations: Sequence[Conversation], *, seed: int = 0) -> Estimate:
    """Mean final emotion (0-100) of scored dialogues, clustered by scenario.

    >>> from attunement.types import Conversation
    >>> convs = [Conversation(id=f"s{i}", scenario_id=f"s{i}", emotion_final=v)
    ...          for i, v in enumerate([40.0, 60.0, 80.0])]
    >>> final_emotion(convs).value
    60.0
    """
    return _mean_of(scored(conversations), lambda c: c.emotion_final, seed)


def success_rate(conversations: Sequence[Conversation], *, seed: int = 0) -> Estimate:
    """Share of scored dialogues that ended in success (top band or need met)."""
    return _mean_of(scored(conversations), lambda c: float(outcome(c) == "success"), seed)


def failure_rate(conversations: Sequence[Conversation], *, seed: int = 0) -> Estimate:
    """Share of scored dialogues that ended in failure (bottom band)."""
    return _mean_of(scored(conversations), lambda c: float(outcome(c) == "failure"), seed)


def mean_auc(conversations: Sequence[Conversation], *, seed: int = 0) -> Estimate:
    """Mean emotion AUC (0-100) of scored dialogues."""
    return _mean_of(scored(conversations), emotion_auc, seed)


EMOTION_METRICS: dict[str, Callable[..., Estimate]] = {
    "final_emotion": final_emotion,
    "success_rate": success_rate,
    "failure_rate": failure_rate,
    "emotion_auc": mean_auc,
}


def emotion_summary(conversations: Sequence[Conversation], *, seed: int = 0) -> dict[str, Estimate]:
    """Every emotion metric over all dialogues."""
    return {name: fn(conversations, seed=seed) for name, fn in EMOTION_METRICS.items()}


def by_need(
    conversations: Sequence[Conversation],
    metric: Callable[..., Estimate],
    *,
    seed: int = 0,
) -> dict[str, Estimate]:
    """``metric`` per hidden need (needs with no dialogue are left out), in the NEEDS order."""
    out: dict[str, Estimate] = {}
    for need in NEEDS:
        subset = [c for c in conversations if c.need == need]
        if subset:
            out[need] = metric(subset, seed=seed)
    return out


def emotion_by_need(
    conversations: Sequence[Conversation], *, seed: int = 0
) -> dict[str, dict[str, Estimate]]:
    """need -> every emotion metric for the dialogues of that need."""
    return {
        need: emotion_summary([c for c in conversations if c.need == need], seed=seed)
        for need in NEEDS
        if any(c.need == need for c in conversations)
    }
