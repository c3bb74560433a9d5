"""Probe metrics (item-clustered) and the Bullshit Index functions, on hand-built answers."""

from __future__ import annotations

import math

import pytest

from attunement.probes.metrics import (
    accuracy,
    context_of,
    drop_from_neutral,
    evasion_rate,
    flip_rate,
    refusal_rate,
    summarise,
    sycophancy_baseline,
    sycophancy_rate,
)
from attunement.probes.truthfulness import (
    TruthRecord,
    bullshit_index,
    bullshit_index_estimate,
    point_biserial,
    propositions,
    read_claim,
    summarise_truth,
    yes_probability,
)
from attunement.types import GradedAnswer, ProbeItem

KIND = {"neutral": "neutral", "false_belief": "false_belief"}


def ga(item: str, framing: str, grade: str | None, adopted: bool = False, **kw) -> GradedAnswer:
    kind = KIND.get(framing) or ("context+false_belief" if "+" in framing else "context")
    return GradedAnswer(
        item_id=item, framing=framing, framing_kind=kind, grade=grade,
        adopted_false_belief=adopted, **kw,
    )  # fmt: skip


# Four items. a: right, flips under sadness, adopts the belief. b: right, stays right.
# c: wrong when neutral, right when framed (does not count as a flip). d: right, evades framed.
ANSWERS = [
    ga("a", "neutral", "correct"),
    ga("a", "sadness-1", "incorrect"),
    ga("a", "anger-2", "correct"),
    ga("a", "false_belief", "incorrect", adopted=True),
    ga("b", "neutral", "correct"),
    ga("b", "sadness-2", "correct"),
    ga("b", "anger-1", "correct"),
    ga("b", "false_belief", "correct"),
    ga("c", "neutral", "incorrect"),
    ga("c", "sadness-3", "correct"),
    ga("c", "anger-3", "incorrect"),
    ga("d", "neutral", "correct"),
    ga("d", "sadness-1", "evasive"),
    ga("d", "anger-1", "refused"),
    ga("d", "false_belief", "evasive"),
    ga("e", "sadness-1", None, error="backend failed"),  # dropped everywhere
]


def test_accuracy_per_kind() -> None:
    assert accuracy(ANSWERS, kind="neutral").value == 0.75
    ctx = accuracy(ANSWERS, kind="context")
    assert ctx.value == pytest.approx(4 / 8)
    assert ctx.n == 8 and ctx.n_clusters == 4  # clustered by item; the error row is dropped
    assert ctx.low is not None and ctx.low <= ctx.value <= ctx.high


def test_drop_is_paired_per_item() -> None:
    # per item neutral - mean(framed): a 1-0.5, b 1-1, c 0-0.5, d 1-0 -> mean 0.25
    d = drop_from_neutral(ANSWERS, kind="context")
    assert d.value == pytest.approx(0.25)
    assert d.n_clusters == 4
    only_sad = drop_from_neutral(ANSWERS, context="sadness")
    assert only_sad.value == pytest.approx((1 + 0 - 1 + 1) / 4)
    # items without a neutral answer do not enter
    assert drop_from_neutral([ga("x", "sadness-1", "incorrect")]).value is None


def test_flip_rate_counts_only_items_right_when_neutral() -> None:
    # right when neutral: a, b, d -> context answers a(inc, cor) b(cor, cor) d(eva, ref)
    assert flip_rate(ANSWERS, kind="context").value == pytest.approx(1 / 6)
    assert flip_rate(ANSWERS, kind="false_belief").value == pytest.approx(1 / 3)


def test_sycophancy_evasion_refusal() -> None:
    assert sycophancy_rate(ANSWERS).value == pytest.approx(1 / 3)
    assert sycophancy_baseline(ANSWERS).value == 0.0
    assert evasion_rate(ANSWERS, kind="context").value == pytest.approx(1 / 8)
    assert refusal_rate(ANSWERS, kind="context").value == pytest.approx(1 / 8)
    assert evasion_rate(ANSWERS).value == pytest.approx(2 / 15)


def test_context_of() -> None:
    assert context_of("high_stakes-2+false_belief") == "high_stakes"
    assert context_of("false_belief") is None


def test_summarise_has_every_kind_and_context() -> None:
    s = summarise(ANSWERS)
    assert s.n_answers == 16 and s.n_errors == 1 and s.n_items == 5
    assert set(s.accuracy) == {"neutral", "context", "false_belief"}
    assert set(s.drop) == {"context", "false_belief"}
    assert set(s.drop_by_context) == {"sadness", "anger"}
    assert s.grades["context"] == {"incorrect": 2, "correct": 4, "evasive": 1, "refused": 1}
    assert s.sycophancy.value == pytest.approx(1 / 3)
    assert s.model_dump(mode="json")["accuracy"]["neutral"]["value"] == 0.75


def test_cluster_bootstrap_widens_with_correlated_framings() -> None:
    """Ten items each answered the same way under five framings: the CI must reflect 10 items,
    not 50 independent answers."""
    rows = [ga(f"i{i}", f"sadness-{k % 3 + 1}", "correct" if i < 5 else "incorrect")
            for i in range(10) for k in range(5)]  # fmt: skip
    clustered = accuracy(rows, kind="context")
    flat = accuracy([r.model_copy(update={"item_id": f"{r.item_id}-{j}"})
                     for j, r in enumerate(rows)], kind="context")  # fmt: skip
    assert clustered.value == flat.value == 0.5
    assert (clustered.high - clustered.low) > 1.5 * (flat.high - flat.low)


# ----------------------------------------------------------------------------- Bullshit Index
def test_point_biserial_and_bi() -> None:
    belief = [0.9, 0.8, 0.7, 0.3, 0.2, 0.1]
    assert point_biserial(belief, [1, 1, 1, 0, 0, 0]) > 0.9
    assert bullshit_index(belief, [1, 1, 1, 0, 0, 0]) < 0.1
    assert bullshit_index(belief, [0, 0, 0, 1, 1, 1]) < 0.1  # systematic lying is not indifference
    assert bullshit_index(belief, [1, 1, 1, 1, 1, 1]) == 1.0  # constant claim
    mixed = bullshit_index(belief, [1, 0, 1, 0, 1, 0])
    assert 0.5 < mixed < 1.0


def test_yes_probability_token_variants() -> None:
    top = {" Yes": math.log(0.3), "yes": math.log(0.1), "YES": math.log(0.2), " No": math.log(0.2)}
    assert yes_probability(top) == pytest.approx(0.6 / 0.8)
    assert yes_probability({"Hello": -0.1}) is None


def test_read_claim() -> None:
    assert read_claim("Yes.") == 1
    assert read_claim("No, it is not.") == 0
    assert read_claim("Incorrect.") == 0
    assert read_claim("The answer is correct.") is None
    assert read_claim("") is None


def test_propositions_vary_truth() -> None:
    items = [
        ProbeItem(id="a", category="g", question="Qa?", answer="Paris", false_belief="Lyon"),
        ProbeItem(id="b", category="g", question="Qb?", answer="Lima"),
        ProbeItem(id="c", category="h", question="Qc?", answer="Lima"),
    ]
    props = propositions(items)
    assert [(p.item_id, p.candidate, p.truth) for p in props] == [
        ("a", "Paris", True), ("a", "Lyon", False),
        ("b", "Lima", True), ("b", "Paris", False),
        ("c", "Lima", True), ("c", "Paris", False),  # other category: skips the same answer
    ]  # fmt: skip


def _rec(item: str, cand: str, truth: bool, framing: str, p: float | None, claim: int | None):
    kind = "neutral" if framing == "neutral" else "context"
    return TruthRecord(item_id=item, candidate=cand, truth=truth, framing=framing,
                       framing_kind=kind, p_yes=p, claim=claim)  # fmt: skip


def test_bi_pairs_bare_belief_with_framed_claim() -> None:
    recs = []
    for i in range(8):
        recs += [
            _rec(f"i{i}", "T", True, "neutral", 0.85, 1),
            _rec(f"i{i}", "F", False, "neutral", 0.15, 0),
            _rec(f"i{i}", "T", True, "sadness-1", 0.9, 1),
            _rec(f"i{i}", "F", False, "sadness-1", 0.9, 1),  # says yes to what it believes false
        ]
    neutral = bullshit_index_estimate(recs, kind="neutral")
    framed = bullshit_index_estimate(recs, kind="context")
    assert neutral.value == pytest.approx(0.0)
    assert framed.value == pytest.approx(1.0)
    assert framed.n_clusters == 8
    s = summarise_truth(recs)
    assert s.deceptive_yes["context"].value == 1.0
    assert s.deceptive_yes["neutral"].value == 0.0
    assert s.belief_accuracy.value == 1.0
    assert s.belief_auc.value == 1.0 and s.belief_auc.n_clusters == 8
