"""Human labels of public corpora mapped onto the taxonomy, and the coder's agreement with them.

The mappings are those of TAXONOMY.md ("Mappings to public annotation schemes"), as tables.
A gold label maps to a set of acts (many-to-one where the schemes are coarser or cut
differently); a coded turn agrees when one of its acts is in that set. The loaders keep the
labels in the turn metadata (``gold_strategy`` for ESConv, ``gold_behaviour`` for AnnoMI,
``gold_labels`` for BOLT), so any coded file of those formats can be scored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, Field

from attunement.coding.taxonomy import GROUP_ACTS, Act
from attunement.stats import Estimate, bootstrap_mean
from attunement.types import Conversation

_EXPLORE = frozenset(GROUP_ACTS["EXPLORE"])
_REFLECT = frozenset(GROUP_ACTS["REFLECT"])

ESCONV_STRATEGY_ACTS: dict[str, frozenset[Act]] = {
    "question": _EXPLORE,
    "restatement or paraphrasing": frozenset({"reflect_content"}),
    "reflection of feelings": frozenset({"reflect_feeling"}),
    "self-disclosure": frozenset({"self_disclose"}),
    "affirmation and reassurance": frozenset({"reassure", "validate"}),
    "providing suggestions": frozenset({"advise"}),
    "information": frozenset({"inform"}),
    "others": frozenset({"other", "acknowledge"}),
}
ANNOMI_BEHAVIOUR_ACTS: dict[str, frozenset[Act]] = {
    "reflection": frozenset({"reflect_content", "reflect_feeling"}),
    "question": _EXPLORE,
    "therapist_input": frozenset({"advise", "inform"}),
    "other": frozenset({"other", "acknowledge", "reassure"}),
}
# BOLT labels are matched by keywords (their exact spelling varies between exports); first wins.
BOLT_KEYWORD_ACTS: tuple[tuple[tuple[str, ...], frozenset[Act]], ...] = (
    (("reflection", "emotion"), frozenset({"reflect_feeling"})),
    (("reflection", "strength"), _REFLECT | {"reassure"}),
    (("reflection",), _REFLECT),
    (("question", "emotion"), frozenset({"checkin"})),
    (("question", "experience"), frozenset({"ask_open"})),
    (("question", "perspective"), frozenset({"ask_open"})),
    (("question",), _EXPLORE),
    (("problem",), frozenset({"advise"})),
    (("planning",), frozenset({"advise"})),
    (("normaliz",), frozenset({"validate"})),
    (("normalis",), frozenset({"validate"})),
    (("psychoeducation",), frozenset({"inform"})),
)
SCHEMES = ("esconv", "annomi", "bolt")


def _norm(label: str) -> str:
    return re.sub(r"[\s_]+", " ", label.strip().lower())


def gold_acts(scheme: str, label: str) -> frozenset[Act] | None:
    """The acts a public label maps to (None when the label is not in the table).

    >>> sorted(gold_acts("esconv", "Affirmation and Reassurance"))
    ['reassure', 'validate']
    >>> sorted(gold_acts("bolt", "Reflections on Emotions"))
    ['reflect_feeling']
    """
    key = _norm(label)
    if scheme == "esconv":
        return ESCONV_STRATEGY_ACTS.get(key)
    if scheme == "annomi":
        return ANNOMI_BEHAVIOUR_ACTS.get(key.replace(" ", "_")) or ANNOMI_BEHAVIOUR_ACTS.get(key)
    if scheme == "bolt":
        for words, acts in BOLT_KEYWORD_ACTS:
            if all(w in key for w in words):
                return acts
        return None
    raise ValueError(f"unknown scheme {scheme!r}; expected one of {SCHEMES}")


def turn_gold(metadata: dict) -> tuple[str, list[str]] | None:
    """(scheme, labels) held in a loaded turn's metadata, if any."""
    if metadata.get("gold_strategy"):
        return "esconv", [str(metadata["gold_strategy"])]
    if metadata.get("gold_behaviour"):
        return "annomi", [str(metadata["gold_behaviour"])]
    if metadata.get("gold_labels"):
        return "bolt", [str(x) for x in metadata["gold_labels"]]
    return None


class GoldAgreement(BaseModel):
    """How often the coder's acts fall in the set a human label maps to."""

    scheme: str | None = None
    agreement: Estimate = Field(description="share of gold-labelled turns the coder agrees with")
    per_label: dict[str, Estimate] = Field(default_factory=dict)
    n_turns: int = 0
    unmapped: dict[str, int] = Field(default_factory=dict)


def gold_agreement(conversations: Sequence[Conversation]) -> GoldAgreement:
    """Agreement of coded turns with their gold labels, clustered by dialogue.

    A turn with several gold labels (BOLT) agrees on each label separately.
    """
    hits: list[float] = []
    clusters: list[str] = []
    by_label: dict[str, tuple[list[float], list[str]]] = {}
    unmapped: dict[str, int] = {}
    scheme_seen: str | None = None
    for conv in conversations:
        for turn in conv.turns:
            found = turn_gold(turn.metadata)
            if found is None or turn.codes is None or turn.codes.failed:
                continue
            scheme, labels = found
            scheme_seen = scheme
            acts = turn.codes.act_set
            for label in labels:
                allowed = gold_acts(scheme, label)
                if allowed is None:
                    unmapped[label] = unmapped.get(label, 0) + 1
                    continue
                ok = float(bool(acts & allowed))
                hits.append(ok)
                clusters.append(conv.id)
                vals, cl = by_label.setdefault(label, ([], []))
                vals.append(ok)
                cl.append(conv.id)
    return GoldAgreement(
        scheme=scheme_seen,
        agreement=bootstrap_mean(hits, clusters),
        per_label={k: bootstrap_mean(v, c) for k, (v, c) in sorted(by_label.items())},
        n_turns=len(hits),
        unmapped=unmapped,
    )
