"""Asking when the request is ambiguous, answering when it is clear (CollabLLM's pair).

Judged on the first assistant turn, which is where the choice is made: it *asks* when its acts
include any EXPLORE act (a question before acting), and *answers directly* when it has a SOLVE
act and no EXPLORE act. On ``clarify`` scenarios the right move is to ask; on ``clear_task``
scenarios asking wastes the user's time. The F1 treats "should ask" as the positive class
(ambiguous requests) and "asked" as the prediction, so it falls with both under-asking and
over-asking. CollabLLM reports 52.8% ask rate on ambiguous and 72.3% direct answers on clear
questions (GPT-4o: 15.4% and 90.4%).

Each figure is an :class:`~attunement.stats.Estimate` clustered by scenario.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from attunement.coding.taxonomy import GROUP_ACTS
from attunement.stats import Estimate, bootstrap_mean, bootstrap_stat
from attunement.types import Conversation, Need

ASK_ACTS: frozenset[str] = frozenset(GROUP_ACTS["EXPLORE"])
ANSWER_ACTS: frozenset[str] = frozenset(GROUP_ACTS["SOLVE"])
AMBIGUOUS: Need = "clarify"
CLEAR: Need = "clear_task"


def first_move(conv: Conversation) -> tuple[bool, bool] | None:
    """(asked, answered directly) on the first assistant turn; None if it is missing or uncoded.

    >>> from attunement.types import ActSpan, CodedUtterance, Conversation, Turn
    >>> codes = CodedUtterance(text="Which one?", spans=[
    ...     ActSpan(start=0, end=10, text="Which one?", act="ask_clarify")])
    >>> c = Conversation(id="d", turns=[Turn(index=0, role="user", content="Fix it"),
    ...     Turn(index=1, role="assistant", content="Which one?", codes=codes)])
    >>> first_move(c)
    (True, False)
    """
    turns = conv.assistant_turns()
    if not turns or turns[0].codes is None or turns[0].codes.failed:
        return None
    acts = turns[0].codes.act_set
    asked = bool(acts & ASK_ACTS)
    return asked, (not asked) and bool(acts & ANSWER_ACTS)


def _rows(conversations: Sequence[Conversation], need: Need) -> list[tuple[Conversation, tuple]]:
    out = []
    for c in conversations:
        if c.need != need:
            continue
        move = first_move(c)
        if move is not None:
            out.append((c, move))
    return out


def ask_rate_ambiguous(conversations: Sequence[Conversation], *, seed: int = 0) -> Estimate:
    """Share of ambiguous (``clarify``) dialogues whose first turn asks."""
    rows = _rows(conversations, AMBIGUOUS)
    return bootstrap_mean(
        [float(m[0]) for _, m in rows], [c.scenario_id or c.id for c, _ in rows], seed=seed
    )


def direct_rate_clear(conversations: Sequence[Conversation], *, seed: int = 0) -> Estimate:
    """Share of clear-task dialogues whose first turn answers without asking."""
    rows = _rows(conversations, CLEAR)
    return bootstrap_mean(
        [float(m[1]) for _, m in rows], [c.scenario_id or c.id for c, _ in rows], seed=seed
    )


def ask_f1(conversations: Sequence[Conversation], *, seed: int = 0) -> Estimate:
    """F1 of "asked" as a prediction of "the request was ambiguous" (clarify vs clear_task).

    >>> from attunement.types import ActSpan, CodedUtterance, Conversation, Turn
    >>> def conv(i, need, act):
    ...     codes = CodedUtterance(text="x", spans=[ActSpan(start=0, end=1, text="x", act=act)])
    ...     return Conversation(id=f"c{i}", scenario_id=f"s{i}", need=need, turns=[
    ...         Turn(index=0, role="user", content="u"),
    ...         Turn(index=1, role="assistant", content="x", codes=codes)])
    >>> convs = [conv(0, "clarify", "ask_clarify"), conv(1, "clarify", "advise"),
    ...          conv(2, "clear_task", "inform"), conv(3, "clear_task", "ask_open")]
    >>> ask_f1(convs).value  # tp=1, fp=1, fn=1
    0.5
    """
    rows = _rows(conversations, AMBIGUOUS) + _rows(conversations, CLEAR)
    truth = np.array([c.need == AMBIGUOUS for c, _ in rows], dtype=bool)
    pred = np.array([m[0] for _, m in rows], dtype=bool)

    def f1(idx: np.ndarray) -> float | None:
        t, p = truth[idx], pred[idx]
        tp = int(np.sum(t & p))
        denom = 2 * tp + int(np.sum(~t & p)) + int(np.sum(t & ~p))
        return None if denom == 0 else 2 * tp / denom

    if not rows:
        return Estimate(value=None)
    return bootstrap_stat(f1, [c.scenario_id or c.id for c, _ in rows], seed=seed)


def ambiguity_summary(
    conversations: Sequence[Conversation], *, seed: int = 0
) -> dict[str, Estimate]:
    """Ask rate on ambiguous requests, direct-answer rate on clear ones, and their F1."""
    return {
        "ask_rate_ambiguous": ask_rate_ambiguous(conversations, seed=seed),
        "direct_rate_clear": direct_rate_clear(conversations, seed=seed),
        "ask_f1": ask_f1(conversations, seed=seed),
    }
