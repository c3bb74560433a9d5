"""Grounding acts per assistant turn (Shaikh et al.): clarification, acknowledgment, follow-up.

Derived from the coded acts (see ``attunement.coding.taxonomy.grounding_acts``), never coded
twice. Pure functions over conversations whose assistant turns carry ``codes``; every rate is
an Estimate with a bootstrap interval clustered by dialogue (or by scenario).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from attunement.coding.taxonomy import Grounding, grounding_acts
from attunement.stats import Estimate, bootstrap_mean
from attunement.types import Conversation, Turn

ClusterBy = Literal["dialogue", "scenario"]
GROUNDING_KINDS: tuple[Grounding, ...] = ("clarification", "acknowledgment", "follow_up")


def cluster_of(conv: Conversation, by: ClusterBy = "dialogue") -> str:
    """The bootstrap cluster of a conversation: its id, or its scenario (repeated epochs)."""
    if by == "scenario" and conv.scenario_id:
        return conv.scenario_id
    return conv.id


def coded_turns(conv: Conversation) -> list[Turn]:
    """Assistant turns that were coded successfully, in order."""
    return [
        t
        for t in conv.turns
        if t.role == "assistant" and t.codes is not None and not t.codes.failed
    ]


def turn_grounding(turn: Turn) -> set[Grounding]:
    """The grounding acts of one coded turn."""
    assert turn.codes is not None
    return grounding_acts([(s.text, s.act) for s in turn.codes.spans])


class GroundingRates(BaseModel):
    """Share of coded assistant turns with each grounding act, any of them, and acts per turn."""

    per_turn: dict[str, Estimate] = Field(default_factory=dict)
    any: Estimate
    acts_per_turn: Estimate
    n_turns: int = 0


def grounding_rates(
    conversations: Sequence[Conversation], *, cluster_by: ClusterBy = "dialogue", seed: int = 0
) -> GroundingRates:
    """Grounding-act rates per assistant turn, clustered by dialogue.

    >>> from attunement.types import ActSpan, CodedUtterance, Conversation, Turn
    >>> c = CodedUtterance(text="I see.", spans=[ActSpan(start=0, end=6, text="I see.",
    ...                    act="acknowledge")])
    >>> conv = Conversation(id="d", turns=[Turn(index=0, role="assistant", content="I see.",
    ...                     codes=c)])
    >>> r = grounding_rates([conv])
    >>> r.per_turn["acknowledgment"].value, r.acts_per_turn.value
    (1.0, 1.0)
    """
    flags: dict[str, list[float]] = {k: [] for k in GROUNDING_KINDS}
    anyg: list[float] = []
    counts: list[float] = []
    clusters: list[str] = []
    for conv in conversations:
        key = cluster_of(conv, cluster_by)
        for turn in coded_turns(conv):
            found = turn_grounding(turn)
            for k in GROUNDING_KINDS:
                flags[k].append(float(k in found))
            anyg.append(float(bool(found)))
            counts.append(float(len(found)))
            clusters.append(key)
    return GroundingRates(
        per_turn={k: bootstrap_mean(v, clusters, seed=seed) for k, v in flags.items()},
        any=bootstrap_mean(anyg, clusters, seed=seed),
        acts_per_turn=bootstrap_mean(counts, clusters, seed=seed),
        n_turns=len(anyg),
    )
