"""The behaviour profile of coded conversations: what the assistant does, and when.

Pure functions over conversations whose assistant turns carry ``codes`` (from the coder or a
simulated run). Every figure is an Estimate with a bootstrap interval clustered by dialogue
(``cluster_by="scenario"`` for repeated simulated runs):

- act and group frequencies: share of coded assistant turns holding each act / group
  (``turn_rate``), and share of coded sentences (``share``);
- P(advise | the user disclosed feelings in the previous turn), and without a disclosure;
- turns until the first advise (1-based, among coded assistant turns, dialogues with advice);
- understanding first: share of dialogues with a SOLVE act where a REFLECT or EXPLORE act came
  before the first SOLVE act (sentence order across turns); and its mirror for advice,
  ``advice_before_understanding``: share of dialogues with advice where nothing of REFLECT or
  EXPLORE came before the first advise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from attunement.coding.disclosure import discloses_feeling
from attunement.coding.taxonomy import ACT_GROUP, ACTS, GROUPS
from attunement.metrics.grounding import (
    ClusterBy,
    GroundingRates,
    cluster_of,
    coded_turns,
    grounding_rates,
)
from attunement.stats import Estimate, bootstrap_mean
from attunement.types import Conversation

_UNDERSTANDING = frozenset({"REFLECT", "EXPLORE"})
_REFLECTIONS = frozenset({"reflect_feeling", "reflect_content"})


def act_frequencies(
    conversations: Sequence[Conversation], *, cluster_by: ClusterBy = "dialogue", seed: int = 0
) -> dict[str, dict[str, Estimate]]:
    """Per act and per group: ``turn_rate`` (share of turns holding it) and ``share`` (of
    sentences).

    >>> from attunement.types import ActSpan, CodedUtterance, Conversation, Turn
    >>> spans = [ActSpan(start=0, end=3, text="Hm.", act="acknowledge"),
    ...          ActSpan(start=4, end=9, text="Rest.", act="advise")]
    >>> t = Turn(index=0, role="assistant", content="Hm. Rest.",
    ...          codes=CodedUtterance(text="Hm. Rest.", spans=spans))
    >>> f = act_frequencies([Conversation(id="d", turns=[t])])
    >>> f["turn_rate"]["advise"].value, f["share"]["advise"].value
    (1.0, 0.5)
    >>> f["group_turn_rate"]["SOLVE"].value
    1.0
    """
    turn_flags: dict[str, list[float]] = {a: [] for a in ACTS}
    group_flags: dict[str, list[float]] = {g: [] for g in GROUPS}
    sent_flags: dict[str, list[float]] = {a: [] for a in ACTS}
    turn_clusters: list[str] = []
    sent_clusters: list[str] = []
    for conv in conversations:
        key = cluster_of(conv, cluster_by)
        for turn in coded_turns(conv):
            assert turn.codes is not None
            acts = turn.codes.act_set
            groups = turn.codes.groups
            for a in ACTS:
                turn_flags[a].append(float(a in acts))
            for g in GROUPS:
                group_flags[g].append(float(g in groups))
            turn_clusters.append(key)
            for span in turn.codes.spans:
                for a in ACTS:
                    sent_flags[a].append(float(span.act == a))
                sent_clusters.append(key)
    group_share = {
        g: [
            sum(sent_flags[a][i] for a in ACTS if ACT_GROUP[a] == g)
            for i in range(len(sent_clusters))
        ]
        for g in GROUPS
    }
    return {
        "turn_rate": {
            a: bootstrap_mean(v, turn_clusters, seed=seed) for a, v in turn_flags.items()
        },
        "share": {a: bootstrap_mean(v, sent_clusters, seed=seed) for a, v in sent_flags.items()},
        "group_turn_rate": {
            g: bootstrap_mean(v, turn_clusters, seed=seed) for g, v in group_flags.items()
        },
        "group_share": {
            g: bootstrap_mean(v, sent_clusters, seed=seed) for g, v in group_share.items()
        },
    }


def advise_given_disclosure(
    conversations: Sequence[Conversation],
    *,
    disclosed: bool = True,
    cluster_by: ClusterBy = "dialogue",
    seed: int = 0,
) -> Estimate:
    """P(the assistant turn advises | the user turn before it disclosed feelings).

    With ``disclosed=False``: the same rate after user turns without a disclosure.

    >>> from attunement.types import ActSpan, CodedUtterance, Conversation, Turn
    >>> a = CodedUtterance(text="Try yoga.", spans=[ActSpan(start=0, end=9, text="Try yoga.",
    ...                    act="advise")])
    >>> conv = Conversation(id="d", turns=[Turn(index=0, role="user", content="I feel so alone."),
    ...     Turn(index=1, role="assistant", content="Try yoga.", codes=a)])
    >>> advise_given_disclosure([conv]).value
    1.0
    """
    hits: list[float] = []
    clusters: list[str] = []
    for conv in conversations:
        key = cluster_of(conv, cluster_by)
        prev_user: str | None = None
        for turn in conv.turns:
            if turn.role == "user":
                prev_user = turn.content
                continue
            if turn.role != "assistant" or turn.codes is None or turn.codes.failed:
                continue
            if prev_user is not None and discloses_feeling(prev_user) == disclosed:
                hits.append(float("advise" in turn.codes.act_set))
                clusters.append(key)
    return bootstrap_mean(hits, clusters, seed=seed)


def turns_to_first_advise(
    conversations: Sequence[Conversation], *, cluster_by: ClusterBy = "dialogue", seed: int = 0
) -> tuple[Estimate, Estimate]:
    """(mean 1-based assistant-turn index of the first advise, share of dialogues with advice).

    The mean is over dialogues that hold advice.

    >>> from attunement.types import ActSpan, CodedUtterance, Conversation, Turn
    >>> def t(i, act):
    ...     c = CodedUtterance(text="x", spans=[ActSpan(start=0, end=1, text="x", act=act)])
    ...     return Turn(index=i, role="assistant", content="x", codes=c)
    >>> first, share = turns_to_first_advise([Conversation(id="d", turns=[t(0, "ask_open"),
    ...                                        t(1, "advise")])])
    >>> first.value, share.value
    (2.0, 1.0)
    """
    firsts: list[float] = []
    first_clusters: list[str] = []
    has: list[float] = []
    has_clusters: list[str] = []
    for conv in conversations:
        key = cluster_of(conv, cluster_by)
        turns = coded_turns(conv)
        if not turns:
            continue
        first = next((i + 1 for i, t in enumerate(turns) if "advise" in t.codes.act_set), None)  # type: ignore[union-attr]
        has.append(float(first is not None))
        has_clusters.append(key)
        if first is not None:
            firsts.append(float(first))
            first_clusters.append(key)
    return (
        bootstrap_mean(firsts, first_clusters, seed=seed),
        bootstrap_mean(has, has_clusters, seed=seed),
    )


def _first_index(groups: list[str], acts: list[str], target) -> int | None:
    return next(
        (i for i, (g, a) in enumerate(zip(groups, acts, strict=True)) if target(g, a)), None
    )


def understanding_first(
    conversations: Sequence[Conversation],
    *,
    target: str = "SOLVE",
    cluster_by: ClusterBy = "dialogue",
    seed: int = 0,
) -> Estimate:
    """Share of dialogues holding ``target`` (the SOLVE group, or an act such as ``advise``)
    where a REFLECT or EXPLORE act came before its first occurrence.

    >>> from attunement.types import ActSpan, CodedUtterance, Conversation, Turn
    >>> spans = [ActSpan(start=0, end=1, text="x", act="reflect_feeling"),
    ...          ActSpan(start=2, end=3, text="y", act="inform")]
    >>> t = Turn(index=0, role="assistant", content="x y", codes=CodedUtterance(text="x y",
    ...          spans=spans))
    >>> understanding_first([Conversation(id="d", turns=[t])]).value
    1.0
    """
    hits: list[float] = []
    clusters: list[str] = []
    for conv in conversations:
        acts = [s.act for t in coded_turns(conv) for s in t.codes.spans]  # type: ignore[union-attr]
        groups = [ACT_GROUP[a] for a in acts]
        first = _first_index(groups, acts, lambda g, a: target in (g, a))
        if first is None:
            continue
        hits.append(float(any(g in _UNDERSTANDING for g in groups[:first])))
        clusters.append(cluster_of(conv, cluster_by))
    return bootstrap_mean(hits, clusters, seed=seed)


class Profile(BaseModel):
    """Every behaviour figure of a set of coded conversations."""

    n_dialogues: int
    n_turns: int
    n_sentences: int
    act_turn_rate: dict[str, Estimate]
    act_share: dict[str, Estimate]
    group_turn_rate: dict[str, Estimate]
    group_share: dict[str, Estimate]
    reflection_turn_rate: Estimate = Field(
        description="share of turns with a reflection (reflect_feeling or reflect_content)"
    )
    grounding: GroundingRates
    p_advise_given_disclosure: Estimate
    p_advise_given_no_disclosure: Estimate
    turns_to_first_advise: Estimate
    dialogues_with_advice: Estimate
    understanding_before_solve: Estimate
    advice_before_understanding: Estimate = Field(
        description="share of dialogues with advice where no REFLECT/EXPLORE act came first"
    )


def behaviour_profile(
    conversations: Sequence[Conversation], *, cluster_by: ClusterBy = "dialogue", seed: int = 0
) -> Profile:
    """All figures at once (what ``attune code --summary`` prints and writes)."""
    freq = act_frequencies(conversations, cluster_by=cluster_by, seed=seed)
    first, with_advice = turns_to_first_advise(conversations, cluster_by=cluster_by, seed=seed)
    adv_first = understanding_first(
        conversations, target="advise", cluster_by=cluster_by, seed=seed
    )
    turns = [t for c in conversations for t in coded_turns(c)]
    return Profile(
        n_dialogues=len(conversations),
        n_turns=len(turns),
        n_sentences=sum(len(t.codes.spans) for t in turns),  # type: ignore[union-attr]
        act_turn_rate=freq["turn_rate"],
        act_share=freq["share"],
        group_turn_rate=freq["group_turn_rate"],
        group_share=freq["group_share"],
        reflection_turn_rate=bootstrap_mean(
            [float(bool(t.codes.act_set & _REFLECTIONS)) for t in turns],  # type: ignore[union-attr]
            [cluster_of(c, cluster_by) for c in conversations for _ in coded_turns(c)],
            seed=seed,
        ),
        grounding=grounding_rates(conversations, cluster_by=cluster_by, seed=seed),
        p_advise_given_disclosure=advise_given_disclosure(
            conversations, cluster_by=cluster_by, seed=seed
        ),
        p_advise_given_no_disclosure=advise_given_disclosure(
            conversations, disclosed=False, cluster_by=cluster_by, seed=seed
        ),
        turns_to_first_advise=first,
        dialogues_with_advice=with_advice,
        understanding_before_solve=understanding_first(
            conversations, cluster_by=cluster_by, seed=seed
        ),
        advice_before_understanding=_complement(adv_first),
    )


def _complement(est: Estimate) -> Estimate:
    if est.value is None:
        return est
    low = None if est.high is None else 1.0 - est.high
    high = None if est.low is None else 1.0 - est.low
    return est.model_copy(update={"value": 1.0 - est.value, "low": low, "high": high})


def reference_rates(profile: Profile) -> dict[str, Estimate]:
    """Per-turn rates under the measure names of ``metrics.reference`` (for ``grounding_gap``)."""
    return {
        "question": profile.group_turn_rate["EXPLORE"],
        "reflection": profile.reflection_turn_rate,
        "advice": profile.act_turn_rate["advise"],
        "acknowledgment": profile.grounding.per_turn["acknowledgment"],
        "follow_up": profile.grounding.per_turn["follow_up"],
        "clarification": profile.grounding.per_turn["clarification"],
        "grounding": profile.grounding.acts_per_turn,
    }


def behaviour_sections(
    conversations: Sequence[Conversation],
    *,
    cluster_by: ClusterBy = "scenario",
    seed: int = 0,
    profile: Profile | None = None,
) -> dict[str, Any]:
    """The ``profile``, ``timing`` and ``grounding`` sections of a run's summary.json.

    Pass ``profile`` (from :func:`behaviour_profile`) when you already have it.
    """
    p = profile or behaviour_profile(conversations, cluster_by=cluster_by, seed=seed)
    return {
        "profile": {
            "act_turn_rate": p.act_turn_rate,
            "act_share": p.act_share,
            "group_turn_rate": p.group_turn_rate,
            "group_share": p.group_share,
            "p_advise_given_disclosure": p.p_advise_given_disclosure,
            "p_advise_given_no_disclosure": p.p_advise_given_no_disclosure,
        },
        "timing": {
            "turns_to_first_advise": p.turns_to_first_advise,
            "dialogues_with_advice": p.dialogues_with_advice,
            "understanding_before_solve": p.understanding_before_solve,
            "advice_before_understanding": p.advice_before_understanding,
        },
        "grounding": {
            "per_turn": p.grounding.per_turn,
            "any": p.grounding.any,
            "acts_per_turn": p.grounding.acts_per_turn,
        },
    }
