"""The data model and JSON-lines I/O: validation, error locations, lenient mode, appends."""

from __future__ import annotations

import json

import pytest

from attunement.errors import InputError
from attunement.jsonl import JsonlAppender, read_jsonl, write_jsonl
from attunement.types import (
    ActSpan,
    CodedUtterance,
    Conversation,
    Message,
    RunConfig,
    Scenario,
    Turn,
)


def _conversation(i: int) -> Conversation:
    return Conversation(
        id=f"c{i}",
        scenario_id="s1",
        emotion_start=40,
        turns=[
            Turn(index=0, role="user", content="I failed my exam."),
            Turn(
                index=1,
                role="assistant",
                content="That sounds hard. What happened?",
                codes=CodedUtterance(
                    text="That sounds hard. What happened?",
                    spans=[
                        ActSpan(start=0, end=17, text="That sounds hard.", act="reflect_feeling"),
                        ActSpan(start=18, end=32, text="What happened?", act="ask_open"),
                    ],
                ),
            ),
            Turn(index=2, role="user", content="I froze.", emotion=46, emotion_delta=6),
        ],
    )


def test_round_trip(tmp_path):
    path = tmp_path / "c.jsonl"
    assert write_jsonl(path, [_conversation(i) for i in range(3)]) == 3
    loaded = read_jsonl(path, Conversation).items
    assert [c.id for c in loaded] == ["c0", "c1", "c2"]
    assert loaded[0].turns[1].codes.acts == ["reflect_feeling", "ask_open"]
    assert loaded[0].turns[1].codes.groups == {"REFLECT", "EXPLORE"}
    assert loaded[0].emotions == [40, 46]
    assert loaded[0].messages()[0] == Message(role="user", content="I failed my exam.")


def test_bad_field_names_file_line_and_field(tmp_path):
    path = tmp_path / "c.jsonl"
    good = _conversation(0).model_dump_json()
    bad = json.loads(good)
    bad["turns"][1]["role"] = "robot"
    path.write_text(good + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(InputError) as err:
        read_jsonl(path, Conversation)
    msg = str(err.value)
    assert str(path) in msg and "line 2" in msg and "turns.1.role" in msg
    assert "\n" not in msg


def test_not_json_and_invalid_utf8_are_located(tmp_path):
    path = tmp_path / "c.jsonl"
    good = _conversation(0).model_dump_json().encode()
    path.write_bytes(good + b"\n{not json\n" + b'{"id": "\xff"}\n' + good.replace(b"c0", b"c9"))
    with pytest.raises(InputError, match="line 2.*not valid JSON"):
        read_jsonl(path, Conversation)
    result = read_jsonl(path, Conversation, lenient=True)
    assert [c.id for c in result.items] == ["c0", "c9"]
    assert [e.line for e in result.skipped] == [2, 3]
    assert "invalid UTF-8" in str(result.skipped[1])


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_jsonl(tmp_path / "nope.jsonl", Conversation)


def test_appender_survives_reopen(tmp_path):
    path = tmp_path / "runs" / "c.jsonl"
    with JsonlAppender(path) as out:
        out.append(_conversation(1))
    with JsonlAppender(path) as out:
        out.append(_conversation(2))
    assert [c.id for c in read_jsonl(path, Conversation).items] == ["c1", "c2"]


def test_scenario_validation_rules():
    base = dict(id="s", domain="work", persona={"name": "A"}, opening="hi", need="clarify")
    with pytest.raises(ValueError, match="two readings"):
        Scenario(**base)
    ok = Scenario(
        **base,
        readings=[{"id": "a", "text": "x"}, {"id": "b", "text": "y"}],
        meant="a",
    )
    assert ok.meant == "a"
    with pytest.raises(ValueError, match="not one of the readings"):
        Scenario(**{**base, "need": "vent"}, readings=[{"id": "a", "text": "x"}], meant="z")


def test_run_config_hash_ignores_bookkeeping():
    a = RunConfig(model="local", versions={"attunement": "1"}, max_connections=1)
    b = RunConfig(model="local", versions={"attunement": "2"}, max_connections=8)
    c = RunConfig(model="local", seed=1)
    assert a.config_hash() == b.config_hash() != c.config_hash()
    with pytest.raises(ValueError):
        RunConfig(model="  ")
