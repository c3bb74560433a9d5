"""Hidden facts uncovered: did the assistant ask or reflect its way to what matters?

Each scenario hides facts that only asking or an inviting reflection brings out. The rate is
facts uncovered over facts hidden, pooled over dialogues (a ratio, clustered by scenario);
``any_fact_rate`` is the share of dialogues (with at least one hidden fact) that uncovered any.
Dialogues with ``error`` set still count: a fact uncovered before a failure was uncovered.
"""

from __future__ import annotations

from collections.abc import Sequence

from attunement.stats import Estimate, bootstrap_mean, bootstrap_ratio
from attunement.types import NEEDS, Conversation


def _with_facts(conversations: Sequence[Conversation]) -> list[Conversation]:
    return [c for c in conversations if c.facts_total > 0]


def facts_uncovered_rate(conversations: Sequence[Conversation], *, seed: int = 0) -> Estimate:
    """Facts uncovered / facts hidden, over dialogues that hid any.

    >>> from attunement.types import Conversation
    >>> convs = [Conversation(id="a", scenario_id="a", facts_total=2, facts_uncovered=["f1"]),
    ...          Conversation(id="b", scenario_id="b", facts_total=2, facts_uncovered=[])]
    >>> facts_uncovered_rate(convs).value
    0.25
    """
    convs = _with_facts(conversations)
    return bootstrap_ratio(
        [min(len(c.facts_uncovered), c.facts_total) for c in convs],
        [c.facts_total for c in convs],
        [c.scenario_id or c.id for c in convs],
        seed=seed,
    )


def any_fact_rate(conversations: Sequence[Conversation], *, seed: int = 0) -> Estimate:
    """Share of dialogues (that hid facts) in which at least one fact came out."""
    convs = _with_facts(conversations)
    return bootstrap_mean(
        [float(bool(c.facts_uncovered)) for c in convs],
        [c.scenario_id or c.id for c in convs],
        seed=seed,
    )


def facts_summary(conversations: Sequence[Conversation], *, seed: int = 0) -> dict[str, object]:
    """Both rates overall, and the uncovered rate per need."""
    return {
        "facts_uncovered_rate": facts_uncovered_rate(conversations, seed=seed),
        "any_fact_rate": any_fact_rate(conversations, seed=seed),
        "by_need": {
            need: facts_uncovered_rate([c for c in conversations if c.need == need], seed=seed)
            for need in NEEDS
            if any(c.need == need and c.facts_total for c in conversations)
        },
    }
