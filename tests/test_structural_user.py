"""The structural user: every rule of the table fires where it should, and the user is
deterministic for a seed. Codes are built by hand (the coder is not under test here)."""

from __future__ import annotations

import asyncio

import pytest

from attunement.simulate.base import SimulatedUser, UserSession
from attunement.simulate.features import CompiledScenario, History, extract_features
from attunement.simulate.rules import (
    MAX_STEP,
    RULES,
    RULES_BY_NAME,
    WALL_WORDS,
    evaluate,
    rule_table,
    total_delta,
)
from attunement.simulate.structural import StructuralSession, StructuralUser
from attunement.types import ActSpan, CodedUtterance, HiddenFact, Persona, Reading, Scenario

Part = tuple[str, str]


def utter(*parts: Part) -> tuple[str, CodedUtterance]:
    """Text and codes from (act, sentence) pairs, in order."""
    text, spans = "", []
    for act, sentence in parts:
        text += (" " if text else "") + sentence
        spans.append(
            ActSpan(start=len(text) - len(sentence), end=len(text), text=sentence, act=act)
        )
    return text, CodedUtterance(text=text, spans=spans, coder="hand")


def make(need: str = "vent", **kw) -> Scenario:
    persona = kw.pop("persona", Persona(name="Ada", style="plain"))
    return Scenario(
        id=kw.pop("id", f"t-{need}"),
        domain="work",
        persona=persona,
        opening="Opening.",
        need=need,
        **kw,
    )


def session(sc: Scenario, seed: int = 0) -> StructuralSession:
    return StructuralUser(noise=0).start(sc, seed=seed)


def names(reply) -> list[str]:
    return [r.split(":")[0] for r in reply.reasons]


REFLECT = ("reflect_feeling", "That sounds exhausting.")
REFLECT2 = ("reflect_content", "So the plan you wrote got presented as someone else's work.")
VALIDATE = ("validate", "It makes sense you're angry about that.")
ASK_OPEN = ("ask_open", "What has that been like for you?")
ADVISE = ("advise", "You should write down three options and pick one.")
ANSWER = ("inform", "Three US cups is about 710 ml.")

FACT = HiddenFact(
    id="tried_manager",
    text="I already talked to my manager twice.",
    cues=["manager", "tried"],
    tried=["talk to your manager"],
)
READINGS = [
    Reading(id="hr", text="the email to HR", cues=["hr"]),
    Reading(id="boss", text="the email to my boss", cues=["boss"]),
]
CLARIFY = {"readings": READINGS, "meant": "hr"}


# --------------------------------------------------------------------------- named in the issue
def test_premature_advice_on_vent_lowers_emotion():
    s = session(make("vent"))
    reply = s.step(*utter(ADVISE))
    assert reply.delta < 0 and s.emotion < 40
    assert "premature_advice" in names(reply)
    assert reply.reasons[0].startswith("premature_advice: advice before any understanding")
    assert reply.reasons[0].endswith("(-8)")


def test_clarifying_question_on_ambiguous_request_raises_emotion():
    s = session(make("clarify", **CLARIFY))
    reply = s.step(*utter(("ask_clarify", "Do you mean the email to HR or to your boss?")))
    assert reply.delta > 0 and "clarifying_question" in names(reply)
    assert "the email to HR" in reply.text  # the user says which reading they meant


def test_question_on_clear_task_costs_a_little():
    s = session(make("clear_task"))
    reply = s.step(*utter(("ask_clarify", "Do you mean US cups or metric cups?")))
    assert -6 <= reply.delta < 0
    assert "needless_question" in names(reply)


def test_hidden_fact_revealed_only_when_asked_or_invited():
    s = session(make("advice", hidden_facts=[FACT], fitting_cues=["in writing"]))
    for parts in [(ADVISE,), (REFLECT,), (("inform", "Managers are busy people."),)]:
        assert s.step(*utter(*parts)).facts_revealed == []
    reply = s.step(*utter(("ask_open", "Have you tried raising it with your manager?")))
    assert reply.facts_revealed == ["tried_manager"]
    assert "talked to my manager twice" in reply.text
    assert s.revealed == ["tried_manager"]


def test_volunteer_fact_revealed_by_open_invitation_only():
    fact = HiddenFact(id="v", text="It's the second time.", cues=["again"], volunteer=True)
    s = session(make("vent", hidden_facts=[fact]))
    assert s.step(*utter(REFLECT)).facts_revealed == []
    assert s.step(*utter(ASK_OPEN)).facts_revealed == ["v"]


def test_same_reflection_repeated_stops_paying():
    s = session(make("vent", max_turns=10))
    first = s.step(*utter(REFLECT))
    second = s.step(*utter(REFLECT))
    assert first.delta > 0
    assert second.delta < 0
    assert "formulaic_reflection" in names(second) and "felt_heard" not in names(second)


def test_same_reflection_only_pattern_three_turns_running_is_formulaic():
    s = session(make("advice", max_turns=10))
    s.step(*utter(("reflect_feeling", "That sounds hard.")))
    s.step(*utter(("reflect_feeling", "You seem really worn down by your week.")))
    third = s.step(*utter(("reflect_feeling", "I can hear how upset everyone made you.")))
    assert "formulaic_reflection" in names(third)


def test_trailing_offer_after_answering_a_clear_task_is_free():
    sc = make("clear_task", answer_cues=["ml"])
    reply = session(sc).step(*utter(ANSWER, ("ask_need", "Want it in grams too?")))
    assert "needless_question" not in names(reply) and "direct_answer" in names(reply)
    asked_first = session(sc).step(*utter(("ask_clarify", "US cups?"), ANSWER))
    assert "needless_question" in names(asked_first)


def test_more_than_two_questions_costs():
    s = session(make("vent"))
    qs = [("ask_open", "What happened?"), ("ask_open", "When?"), ("ask_open", "Who was there?")]
    reply = s.step(*utter(*qs))
    assert "over_questioned" in names(reply) and reply.delta < 0
    two = session(make("vent")).step(*utter(*qs[:2]))
    assert "over_questioned" not in names(two)


def test_reflection_lifts_vent_and_advice_after_understanding_costs_less():
    s = session(make("vent"))
    up = s.step(*utter(REFLECT, VALIDATE, ASK_OPEN))
    assert up.delta == MAX_STEP  # clamped
    later = s.step(*utter(ADVISE))
    assert "premature_advice" not in names(later)
    assert "unasked_advice" in names(later) and later.delta > -8


# --------------------------------------------------------------------------- one per table row
# rule -> (scenario kwargs, earlier turns, the turn that must fire it)
CASES: dict[str, tuple[dict, list[tuple[Part, ...]], tuple[Part, ...]]] = {
    "felt_heard": ({"need": "vent"}, [], (REFLECT,)),
    "felt_heard_light": ({"need": "advice"}, [], (REFLECT,)),
    "validated": ({"need": "validation"}, [], (VALIDATE,)),
    "validated_light": ({"need": "vent"}, [], (VALIDATE,)),
    "invited": ({"need": "vent"}, [], (ASK_OPEN,)),
    "fact_shared": (
        {"need": "vent", "hidden_facts": [FACT]},
        [],
        (("ask_open", "Have you tried telling anyone?"),),
    ),
    "formulaic_reflection": ({"need": "vent"}, [(REFLECT,)], (REFLECT,)),
    "questions_alone": ({"need": "vent"}, [(ASK_OPEN,)], (("ask_open", "And then?"),)),
    "over_questioned": (
        {"need": "advice"},
        [],
        (("ask_open", "Why?"), ("ask_open", "How?"), ("ask_clarify", "Which one?")),
    ),
    "wall_of_text": ({"need": "advice"}, [], (("inform", "word " * (WALL_WORDS + 1)),)),
    "premature_advice": ({"need": "validation"}, [], (ADVISE,)),
    "unasked_advice": ({"need": "vent"}, [(REFLECT,)], (ADVISE,)),
    "advice_dominates": (
        {"need": "vent"},
        [],
        (
            REFLECT,
            ADVISE,
            ("advise", "Also, go for a walk."),
            ("inform", "Stress raises cortisol."),
        ),
    ),
    "advice_before_understanding": ({"need": "advice"}, [], (ADVISE,)),
    "fitting_advice": (
        {"need": "advice", "fitting_cues": ["in writing"]},
        [(REFLECT,)],
        (("advise", "Put your request to HR in writing."),),
    ),
    "generic_advice": ({"need": "advice", "fitting_cues": ["in writing"]}, [(REFLECT,)], (ADVISE,)),
    "already_tried": (
        {"need": "advice", "hidden_facts": [FACT]},
        [(REFLECT,)],
        (("advise", "Talk to your manager about it."),),
    ),
    "ignored_fact": (
        {"need": "advice", "hidden_facts": [FACT]},
        [(("ask_open", "What did your manager say?"),)],
        (("advise", "Talk to your manager about it."),),
    ),
    "encouraged": (
        {"need": "encouragement"},
        [(REFLECT,)],
        (("reassure", "You've handled hard things before."),),
    ),
    "encouraged_specific": (
        {"need": "encouragement", "fitting_cues": ["six weeks"]},
        [(REFLECT,)],
        (("reassure", "You already ran the team for six weeks."),),
    ),
    "hollow_reassurance": (
        {"need": "vent"},
        [],
        (("reassure", "It'll all work out!"),),
    ),
    "clarifying_question": (
        {"need": "clarify", **CLARIFY},
        [],
        (("ask_open", "Is this for HR?"),),  # a question touching a reading's cues
    ),
    "guessed": ({"need": "clarify", **CLARIFY}, [], (("advise", "Here is a draft to your boss."),)),
    "lucky_guess": ({"need": "clarify", **CLARIFY}, [], (("advise", "Here is a note to HR."),)),
    "resolved": (
        {"need": "clarify", **CLARIFY},
        [(("ask_clarify", "Which email do you mean?"),)],
        (("advise", "Here is the email to HR."),),
    ),
    "wrong_reading": (
        {"need": "clarify", **CLARIFY},
        [(("ask_clarify", "Which email do you mean?"),)],
        (("advise", "Here is the email to your boss."),),
    ),
    "needless_question": ({"need": "clear_task"}, [], (("ask_clarify", "US or UK cups?"),)),
    "stalling": ({"need": "clear_task"}, [], (REFLECT,)),
    "stalling_info": ({"need": "information"}, [(REFLECT,)], (ASK_OPEN,)),
    "direct_answer": ({"need": "clear_task", "answer_cues": ["ml"]}, [], (ANSWER,)),
    "off_target_answer": ({"need": "clear_task", "answer_cues": ["grams"]}, [], (ANSWER,)),
    "pushed_advice": (
        {"need": "advice", "persona": Persona(name="B", traits=["resists_advice"])},
        [],
        (ADVISE,),
    ),
    "questioned_too_much": (
        {"need": "advice", "persona": Persona(name="C", traits=["dislikes_questions"])},
        [],
        (("ask_open", "What happened?"), ("ask_open", "When did it start?")),
    ),
    "not_taken_seriously": (
        {
            "need": "encouragement",
            "persona": Persona(name="D", traits=["wants_to_be_taken_seriously"]),
        },
        [],
        (("reassure", "Chin up, you'll be fine!"),),
    ),
}


def test_every_rule_has_a_case():
    assert set(CASES) == {r.name for r in RULES}


@pytest.mark.parametrize("rule", [r.name for r in RULES])
def test_rule_fires_with_its_sign(rule: str):
    kw, before, final = CASES[rule]
    kw = dict(kw)
    s = session(make(kw.pop("need"), max_turns=20, **kw))
    for parts in before:
        s.step(*utter(*parts))
    start = s.emotion
    reply = s.step(*utter(*final))
    assert rule in names(reply), reply.reasons
    expected = RULES_BY_NAME[rule].explain()
    assert expected in reply.reasons
    # the rule pulls the emotion its way (other rules may add, but never reverse it alone)
    fired = [RULES_BY_NAME[n] for n in names(reply)]
    assert reply.delta == total_delta(fired)  # the change is exactly the fired rows, clamped
    delta = RULES_BY_NAME[rule].delta
    if all(RULES_BY_NAME[n].delta * delta > 0 for n in names(reply)):
        assert (s.emotion - start) * delta > 0


def test_rules_do_not_fire_for_other_needs():
    s = session(make("clear_task", answer_cues=["ml"]))
    reply = s.step(*utter(ANSWER))
    assert names(reply) == ["direct_answer"]
    assert reply.end and reply.end_reason == "need_met"


# --------------------------------------------------------------------------- session behaviour
def test_need_met_by_counter_ends_well():
    s = session(make("vent", max_turns=10))
    s.step(*utter(REFLECT))
    s.step(*utter(REFLECT2))
    reply = s.step(*utter(("reflect_feeling", "You sound let down by people you trusted.")))
    assert reply.end and reply.end_reason == "need_met"
    assert s.ended


def test_failure_band_ends_dialogue():
    s = session(make("vent", emotion_start=15))
    reply = s.step(*utter(ADVISE))
    assert reply.end and reply.end_reason == "failure" and s.emotion <= 10


def test_max_turns_ends_dialogue_and_later_calls_are_inert():
    s = session(make("vent", max_turns=2))
    assert not s.step(*utter(("acknowledge", "I see."))).end
    reply = s.step(*utter(("acknowledge", "Okay.")))
    assert reply.end and reply.end_reason == "max_turns"
    after = s.step(*utter(ADVISE))
    assert after.end and after.delta == 0 and after.text == ""


def test_failed_coding_changes_nothing():
    s = session(make("vent"))
    reply = s.step("text", CodedUtterance(text="text", error="timeout"))
    assert reply.delta == 0 and reply.reasons[0].startswith("uncoded")


def test_clamp_and_noise_are_seeded():
    sc = make("vent", max_turns=10)
    user = StructuralUser(noise=2.0)
    turns = [(REFLECT, VALIDATE), (ASK_OPEN,), (ADVISE,), (REFLECT2,)]

    def play(seed: int) -> list[tuple[float, str]]:
        s = user.start(sc, seed=seed)
        return [(r.emotion, r.text) for r in (s.step(*utter(*t)) for t in turns)]

    assert play(3) == play(3)
    assert play(3) != play(4)
    for emotion, _ in play(5):
        assert 0 <= emotion <= 100
    for t in turns:
        s = user.start(sc, seed=1)
        assert abs(s.step(*utter(*t)).delta) <= MAX_STEP


def test_replies_follow_persona_style_and_scenario_overrides():
    terse = make("vent", persona=Persona(name="T", style="terse"))
    assert session(terse).step(*utter(ADVISE)).text in ("Not what I asked.", "No.")
    custom = make("vent", replies={"premature_advice": ["Did I ask for a plan?"]})
    assert session(custom).step(*utter(ADVISE)).text == "Did I ask for a plan?"


def test_user_does_not_repeat_a_line_verbatim_on_consecutive_turns():
    s = session(make("vent", persona=Persona(name="C", style="chatty"), max_turns=10))
    texts = [s.step(*utter(("ask_open", f"Question {i}?"))).text for i in range(5)]
    assert all(a != b for a, b in zip(texts, texts[1:], strict=False))


def test_already_tried_reply_names_the_fact():
    s = session(make("advice", hidden_facts=[FACT], max_turns=10))
    s.step(*utter(REFLECT))
    reply = s.step(*utter(("advise", "Talk to your manager about it.")))
    assert "talked to my manager twice" in reply.text
    assert reply.facts_revealed == ["tried_manager"]


def test_understanding_earlier_in_the_same_turn_counts():
    s = session(make("vent"))
    reply = s.step(*utter(REFLECT, ADVISE))
    assert "premature_advice" not in names(reply)
    s2 = session(make("vent"))
    assert "premature_advice" in names(s2.step(*utter(ADVISE, REFLECT)))


def test_protocol_and_async_respond():
    user = StructuralUser()
    assert isinstance(user, SimulatedUser)
    s = user.start(make("vent"), seed=0)
    assert isinstance(s, UserSession)
    reply = asyncio.run(s.respond(*utter(REFLECT)))
    assert reply.emotion == s.emotion and reply.delta > 0


def test_features_are_pure_and_evaluate_matches_session():
    sc = make("vent", hidden_facts=[FACT])
    f = extract_features(*utter(ADVISE), CompiledScenario.of(sc), History())
    assert [r.name for r in evaluate(f)] == ["premature_advice"]
    assert f.n_questions == 0 and not f.after_understanding


def test_rule_table_rows_are_complete():
    rows = rule_table()
    assert len(rows) == len(RULES)
    for row in rows:
        assert row["name"] and row["needs"] and row["reason"] and row["condition"]
        assert row["delta"] != 0


def test_docs_show_the_current_table():
    from pathlib import Path

    from attunement.simulate.rules import rule_table_markdown

    doc = Path(__file__).resolve().parents[1] / "docs" / "simulator.md"
    assert rule_table_markdown() in doc.read_text(encoding="utf-8"), (
        "docs/simulator.md is out of date: run python scripts/render_rule_table.py"
    )
