"""Behaviour profile and grounding metrics on hand-built coded conversations (known answers)."""

from __future__ import annotations

import pytest

from attunement.metrics.grounding import grounding_rates
from attunement.metrics.profile import (
    act_frequencies,
    advise_given_disclosure,
    behaviour_profile,
    behaviour_sections,
    reference_rates,
    turns_to_first_advise,
    understanding_first,
)
from attunement.types import ActSpan, CodedUtterance, Conversation, Turn


def coded(*pairs: tuple[str, str]) -> CodedUtterance:
    spans, pos = [], 0
    for text, act in pairs:
        spans.append(ActSpan(start=pos, end=pos + len(text), text=text, act=act))
        pos += len(text) + 1
    return CodedUtterance(text=" ".join(t for t, _ in pairs), spans=spans)


def conv(cid: str, *turns: str | CodedUtterance, scenario: str | None = None) -> Conversation:
    out = []
    for i, t in enumerate(turns):
        if isinstance(t, str):
            out.append(Turn(index=i, role="user", content=t))
        else:
            out.append(Turn(index=i, role="assistant", content=t.text, codes=t))
    return Conversation(id=cid, scenario_id=scenario, turns=out)


ADVISE_FIRST = conv(
    "advise_first",
    "I'm so anxious about my interview.",
    coded(("You should prepare answers.", "advise")),
    "ok",
    coded(("That sounds stressful.", "reflect_feeling"), ("How are you now?", "checkin")),
)
UNDERSTAND_FIRST = conv(
    "understand_first",
    "I feel so lonely since the move.",
    coded(("That sounds lonely.", "reflect_feeling"), ("What do you miss most?", "ask_open")),
    "my friends",
    coded(("So it's your old friends?", "reflect_content"), ("Try a local club.", "advise")),
)
NO_SOLVE = conv(
    "no_solve",
    "What's 2+2?",
    coded(("I see.", "acknowledge")),
)
FAILED = conv("failed", "hello", CodedUtterance(text="x", error="invalid JSON"))
ALL = [ADVISE_FIRST, UNDERSTAND_FIRST, NO_SOLVE, FAILED]


def test_act_frequencies_turn_rate_and_sentence_share():
    f = act_frequencies(ALL)
    # coded turns: 2 + 2 + 1 = 5 (the failed one is ignored)
    assert f["turn_rate"]["advise"].value == pytest.approx(2 / 5)
    assert f["turn_rate"]["advise"].n == 5 and f["turn_rate"]["advise"].n_clusters == 3
    # sentences: 1 + 2 + 2 + 2 + 1 = 8
    assert f["share"]["advise"].value == pytest.approx(2 / 8)
    assert f["group_turn_rate"]["EXPLORE"].value == pytest.approx(2 / 5)
    assert f["group_share"]["REFLECT"].value == pytest.approx(4 / 8)
    est = f["turn_rate"]["reflect_feeling"]
    assert est.low <= est.value <= est.high


def test_p_advise_given_disclosure():
    yes = advise_given_disclosure(ALL)
    # user turns with disclosure: "I'm so anxious ..." -> advise; "I feel so lonely ..." -> no
    assert yes.value == pytest.approx(0.5) and yes.n == 2
    no = advise_given_disclosure(ALL, disclosed=False)
    # "ok" -> no advise, "my friends" -> advise, "What's 2+2?" -> no
    assert no.value == pytest.approx(1 / 3) and no.n == 3


def test_turns_to_first_advise_and_share_with_advice():
    first, share = turns_to_first_advise(ALL)
    assert first.value == pytest.approx((1 + 2) / 2) and first.n == 2
    assert share.value == pytest.approx(2 / 3)


def test_understanding_before_solve_and_advice_before_understanding():
    est = understanding_first(ALL)
    assert est.value == pytest.approx(0.5) and est.n == 2  # no_solve is excluded
    assert understanding_first([UNDERSTAND_FIRST]).value == 1.0
    assert understanding_first([ADVISE_FIRST]).value == 0.0
    prof = behaviour_profile(ALL)
    assert prof.advice_before_understanding.value == pytest.approx(0.5)
    assert prof.n_turns == 5 and prof.n_sentences == 8 and prof.n_dialogues == 4


def test_grounding_rates():
    r = grounding_rates(ALL)
    # clarification: "So it's your old friends?" (understanding check); acknowledgment: "I see."
    assert r.per_turn["clarification"].value == pytest.approx(1 / 5)
    assert r.per_turn["acknowledgment"].value == pytest.approx(1 / 5)
    assert r.per_turn["follow_up"].value == pytest.approx(2 / 5)
    assert r.acts_per_turn.value == pytest.approx(4 / 5)
    assert r.any.value == pytest.approx(4 / 5)


def test_cluster_by_scenario_pools_epochs():
    a = conv("s1-e0", "I feel sad.", coded(("Try yoga.", "advise")), scenario="s1")
    b = conv("s1-e1", "I feel sad.", coded(("That's sad.", "reflect_feeling")), scenario="s1")
    c = conv("s2-e0", "I feel sad.", coded(("Try yoga.", "advise")), scenario="s2")
    by_dialogue = act_frequencies([a, b, c])["turn_rate"]["advise"]
    by_scenario = act_frequencies([a, b, c], cluster_by="scenario")["turn_rate"]["advise"]
    assert by_dialogue.n_clusters == 3 and by_scenario.n_clusters == 2
    assert by_dialogue.value == by_scenario.value == pytest.approx(2 / 3)


def test_empty_input_gives_no_values():
    prof = behaviour_profile([])
    assert prof.n_turns == 0 and prof.turns_to_first_advise.value is None
    assert prof.act_turn_rate["advise"].value is None


def test_sections_and_reference_rates_are_jsonable():
    sections = behaviour_sections(ALL)
    assert set(sections) == {"profile", "timing", "grounding"}
    assert sections["timing"]["advice_before_understanding"].value == pytest.approx(0.5)
    assert sections["grounding"]["acts_per_turn"].value == pytest.approx(4 / 5)
    rates = reference_rates(behaviour_profile(ALL))
    assert rates["reflection"].value == pytest.approx(3 / 5)
    assert rates["advice"].value == pytest.approx(2 / 5)
