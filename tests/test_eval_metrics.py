"""Eval metrics on hand-built conversations whose answers are known."""

from __future__ import annotations

import json

import pytest

from attunement.metrics.ambiguity import (
    ambiguity_summary,
    ask_f1,
    ask_rate_ambiguous,
    direct_rate_clear,
    first_move,
)
from attunement.metrics.emotion import (
    emotion_auc,
    emotion_by_need,
    failure_rate,
    final_emotion,
    mean_auc,
    success_rate,
)
from attunement.metrics.facts import any_fact_rate, facts_uncovered_rate
from attunement.metrics.reference import REFERENCE_FIGURES, figures_for, grounding_gap
from attunement.metrics.summary import HEADLINE, headline, summarise
from attunement.stats import Estimate
from attunement.types import ActSpan, CodedUtterance, Conversation, Turn


def _codes(*acts: str) -> CodedUtterance:
    spans, pos = [], 0
    for act in acts:
        text = f"{act} sentence."
        spans.append(ActSpan(start=pos, end=pos + len(text), text=text, act=act))
        pos += len(text) + 1
    return CodedUtterance(text=" ".join(s.text for s in spans), spans=spans, coder="hand")


def conv(
    sid: str,
    need: str,
    *,
    epoch: int = 0,
    emotions: tuple[float, ...] = (40.0, 50.0),
    end: str = "max_turns",
    first_acts: tuple[str, ...] = ("reflect_feeling",),
    facts_total: int = 0,
    uncovered: tuple[str, ...] = (),
    error: str | None = None,
    max_turns: int | None = None,
) -> Conversation:
    turns = [Turn(index=0, role="user", content="opening")]
    for i, emo in enumerate(emotions[1:]):
        acts = first_acts if i == 0 else ("advise",)
        turns.append(Turn(index=len(turns), role="assistant", content="a", codes=_codes(*acts)))
        turns.append(Turn(index=len(turns), role="user", content="u", emotion=emo))
    return Conversation(
        id=f"{sid}-e{epoch}",
        scenario_id=sid,
        need=need,
        epoch=epoch,
        turns=turns,
        emotion_start=emotions[0],
        emotion_final=emotions[-1],
        end_reason=end,
        facts_total=facts_total,
        facts_uncovered=list(uncovered),
        error=error,
        metadata={} if max_turns is None else {"max_turns": max_turns},
    )


def _contains(est: Estimate) -> bool:
    return est.low is not None and est.high is not None and est.low <= est.value <= est.high


# ----------------------------------------------------------------------------- emotion
def test_final_emotion_mean_ci_and_clusters():
    convs = [
        conv("a", "vent", emotions=(40, 60)),
        conv("a", "vent", epoch=1, emotions=(40, 80)),
        conv("b", "vent", emotions=(40, 30)),
        conv("c", "advice", emotions=(40, 90)),
        conv("d", "advice", emotions=(40, 50)),
    ]
    est = final_emotion(convs)
    assert est.value == pytest.approx((60 + 80 + 30 + 90 + 50) / 5)
    assert est.n == 5 and est.n_clusters == 4  # two epochs of "a" are one cluster
    assert _contains(est)
    assert 0 <= est.low < est.high <= 100


def test_success_failure_from_end_reasons_and_errors_left_out():
    convs = [
        conv("a", "vent", end="success", emotions=(40, 90)),
        conv("b", "vent", end="need_met", emotions=(40, 70)),
        conv("c", "vent", end="failure", emotions=(40, 5)),
        conv("d", "vent", end="max_turns", emotions=(40, 45)),
        conv("e", "vent", end="error", emotions=(40, 45), error="turn 1: boom"),
    ]
    assert success_rate(convs).value == pytest.approx(0.5)
    assert failure_rate(convs).value == pytest.approx(0.25)
    assert final_emotion(convs).n == 4


def test_emotion_auc_pads_to_turn_limit():
    early_win = conv("a", "vent", emotions=(40, 80), max_turns=3)  # 40, 80, 80, 80
    assert emotion_auc(early_win) == pytest.approx((60 + 80 + 80) / 3)
    slow = conv("b", "vent", emotions=(40, 50, 60, 70), max_turns=3)
    assert emotion_auc(slow) == pytest.approx((45 + 55 + 65) / 3)
    assert mean_auc([early_win, slow]).value == pytest.approx(((220 / 3) + 55) / 2)


def test_by_need_breakdown():
    convs = [
        conv("v1", "vent", emotions=(40, 70), end="need_met"),
        conv("v2", "vent", emotions=(40, 50)),
        conv("c1", "clear_task", emotions=(40, 20), end="failure"),
    ]
    by = emotion_by_need(convs)
    assert list(by) == ["vent", "clear_task"]  # NEEDS order, absent needs left out
    assert by["vent"]["final_emotion"].value == pytest.approx(60)
    assert by["vent"]["success_rate"].value == pytest.approx(0.5)
    assert by["clear_task"]["failure_rate"].value == pytest.approx(1.0)


# ----------------------------------------------------------------------------- ambiguity
def test_first_move_asks_or_answers():
    assert first_move(conv("a", "clarify", first_acts=("ask_clarify",))) == (True, False)
    assert first_move(conv("a", "clarify", first_acts=("inform", "ask_open"))) == (True, False)
    assert first_move(conv("a", "clear_task", first_acts=("inform",))) == (False, True)
    assert first_move(conv("a", "clear_task", first_acts=("reflect_feeling",))) == (False, False)


def test_ask_rates_and_f1_known_values():
    convs = [
        # ambiguous: 3 asked, 1 guessed -> ask rate 0.75
        conv("amb1", "clarify", first_acts=("ask_clarify",)),
        conv("amb2", "clarify", first_acts=("ask_need",)),
        conv("amb3", "clarify", first_acts=("reflect_content", "ask_open")),
        conv("amb4", "clarify", first_acts=("advise",)),
        # clear: 2 answered directly, 1 asked, 1 reflected only -> direct rate 0.5
        conv("clr1", "clear_task", first_acts=("inform",)),
        conv("clr2", "clear_task", first_acts=("advise",)),
        conv("clr3", "clear_task", first_acts=("ask_clarify",)),
        conv("clr4", "clear_task", first_acts=("reflect_feeling",)),
        conv("vent", "vent", first_acts=("ask_open",)),  # not counted anywhere
    ]
    assert ask_rate_ambiguous(convs).value == pytest.approx(0.75)
    assert direct_rate_clear(convs).value == pytest.approx(0.5)
    # tp = 3, fp = 1 (clr3), fn = 1 (amb4): F1 = 6 / 8
    f1 = ask_f1(convs)
    assert f1.value == pytest.approx(0.75)
    assert f1.n == 8 and _contains(f1)
    summary = ambiguity_summary(convs)
    assert set(summary) == {"ask_rate_ambiguous", "direct_rate_clear", "ask_f1"}


def test_ask_f1_undefined_without_positives():
    convs = [conv("c", "clear_task", first_acts=("inform",))]
    assert ask_f1(convs).value is None
    assert ask_rate_ambiguous(convs).value is None


# ----------------------------------------------------------------------------- facts
def test_facts_uncovered_rate():
    convs = [
        conv("a", "advice", facts_total=2, uncovered=("f1", "f2")),
        conv("b", "advice", facts_total=2, uncovered=()),
        conv("c", "vent", facts_total=1, uncovered=("f1",)),
        conv("d", "clear_task", facts_total=0),  # no facts: not counted
    ]
    assert facts_uncovered_rate(convs).value == pytest.approx(3 / 5)
    assert any_fact_rate(convs).value == pytest.approx(2 / 3)


# ----------------------------------------------------------------------------- reference, summary
def test_reference_table_and_gap():
    assert all(f.source and f.unit for f in REFERENCE_FIGURES)
    assert [f.value for f in figures_for("question", "human")] == [0.207, 0.280, 0.320]
    rows = grounding_gap({"question": Estimate(value=0.1035), "acknowledgment": Estimate(value=0)})
    q = rows[0]
    assert q["measure"] == "question"
    esconv = q["references"][0]
    assert esconv["vs_human"] == pytest.approx(-0.5)  # half the ESConv question rate
    ack = rows[1]["references"]
    assert ack[0]["kind"] == "llm_vs_human" and ack[0]["vs_human"] is None


def test_summarise_is_json_and_headline_reads_it():
    convs = [
        conv("a", "vent", emotions=(40, 70), end="need_met"),
        conv("b", "clarify", first_acts=("ask_clarify",), emotions=(40, 55)),
        conv("c", "clear_task", first_acts=("inform",), emotions=(40, 60)),
    ]
    summary = summarise(convs)
    text = json.dumps(summary)  # JSON-ready throughout
    assert json.loads(text)["emotion"]["final_emotion"]["value"] == pytest.approx(185 / 3)
    assert summary["end_reasons"] == {"max_turns": 2, "need_met": 1}
    rows = dict(headline({"metrics": summary}))
    assert list(rows) == [r.label for r in HEADLINE]
    assert rows["final emotion (0-100)"].startswith("61.7 [")
    assert rows["asks on ambiguous %"] == "100"  # one cluster: no interval
