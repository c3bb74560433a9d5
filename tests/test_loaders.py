"""Loaders of every supported transcript format, on small hand-written files in those formats,
and the bad-input cases (one InputError naming file/line/field; lenient mode keeps going)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attunement.coding.gold import gold_acts, gold_agreement
from attunement.coding.loaders import MAX_TURN_CHARS, detect_format, read_transcripts
from attunement.coding.transcripts import code_transcripts, parse_roles
from attunement.errors import InputError

ESCONV_A = [
    {
        "emotion_type": "anxiety",
        "problem_type": "job crisis",
        "situation": "Worried about a review at work.",
        "dialog": [
            {
                "speaker": "seeker",
                "content": "hi, my review is on friday and i'm dreading it",
                "annotation": {},
            },
            {
                "speaker": "supporter",
                "content": "That sounds nerve-racking. What worries you most?",
                "annotation": {"strategy": "Question"},
            },
            {
                "speaker": "seeker",
                "content": "that they'll say i'm too slow",
                "annotation": {"feedback": "4"},
            },
            {
                "speaker": "supporter",
                "content": "You could list three wins from this year.",
                "annotation": {"strategy": "Providing Suggestions"},
            },
        ],
    }
]
ESCONV_B = [
    {
        "dialog": [
            {"speaker": "usr", "text": "my cat died last week"},
            {
                "speaker": "sys",
                "text": "I'm so sorry. Losing a pet really hurts.",
                "strategy": "Reflection of feelings",
                "rating": 5,
            },
        ]
    }
]
ANNOMI_HEADER = (
    "transcript_id,mi_quality,utterance_id,interlocutor,utterance_text,"
    "main_therapist_behaviour,client_talk_type\n"
)
ANNOMI = (
    ANNOMI_HEADER
    + """7,high,1,client,"I guess I drink more than I should, maybe.",n/a,change
7,high,0,therapist,"Thanks for coming in today. What brings you here?",question,n/a
7,high,2,therapist,"You've noticed it creeping up.",reflection,n/a
8,low,0,therapist,"You need to stop drinking on weeknights.",therapist_input,n/a
"""
)
BOLT = """prompt,completion
"That sounds like it has been really heavy for you.", reflections on emotions
"What was that evening like?", questions on experiences
"That sounds like it has been really heavy for you.", reflections on needs
"""


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8")
    return p


def test_esconv_original_layout(tmp_path):
    p = write(tmp_path, "esconv.json", json.dumps(ESCONV_A))
    convs, fmt, skipped = read_transcripts(p)
    assert fmt == "esconv" and skipped == []
    conv = convs[0]
    assert [t.role for t in conv.turns] == ["user", "assistant", "user", "assistant"]
    assert conv.turns[1].metadata["gold_strategy"] == "Question"
    assert conv.turns[2].metadata["feedback"] == "4"
    assert conv.metadata["emotion_type"] == "anxiety" and conv.domain == "job crisis"


def test_esconv_reexport_layout(tmp_path):
    p = write(tmp_path, "esconv_b.json", json.dumps(ESCONV_B))
    convs, fmt, _ = read_transcripts(p, "esconv")
    turn = convs[0].turns[1]
    assert fmt == "esconv" and turn.role == "assistant"
    assert turn.metadata["gold_strategy"] == "Reflection of feelings"
    assert turn.metadata["source_role"] == "sys" and turn.metadata["feedback"] == 5


def test_annomi_groups_and_orders_by_utterance_id(tmp_path):
    p = write(tmp_path, "annomi.csv", ANNOMI)
    convs, fmt, _ = read_transcripts(p)
    assert fmt == "annomi" and [c.id for c in convs] == ["annomi-7", "annomi-8"]
    t7 = convs[0].turns
    assert [t.role for t in t7] == ["assistant", "user", "assistant"]
    assert t7[0].content.startswith("Thanks for coming in") and t7[0].index == 0
    assert t7[0].metadata["gold_behaviour"] == "question"
    assert "gold_behaviour" not in t7[1].metadata
    assert convs[0].metadata["mi_quality"] == "high"


def test_bolt_rows_with_one_label_each_are_merged(tmp_path):
    p = write(tmp_path, "bolt.csv", BOLT)
    convs, fmt, _ = read_transcripts(p)
    assert fmt == "bolt" and len(convs) == 2
    assert convs[0].turns[0].metadata["gold_labels"] == [
        "reflections on emotions",
        "reflections on needs",
    ]


def test_openai_chat_jsonl_with_content_parts(tmp_path):
    lines = [
        {
            "messages": [
                {"role": "system", "content": "be kind"},
                {"role": "user", "content": "I'm so tired of this job."},
                {
                    "role": "assistant",
                    "content": [{"type": "text", "text": "That sounds draining."}],
                },
            ]
        },
        {
            "id": "x2",
            "messages": [
                {"role": "user", "content": "2+2?"},
                {"role": "assistant", "content": "4."},
            ],
        },
    ]
    p = write(tmp_path, "chat.jsonl", "\n".join(json.dumps(x) for x in lines))
    convs, fmt, _ = read_transcripts(p)
    assert fmt == "openai" and [c.id for c in convs] == ["line-1", "x2"]
    assert convs[0].turns[2].content == "That sounds draining."


def test_project_conversation_jsonl(tmp_path):
    line = {
        "id": "c1",
        "turns": [
            {"index": 0, "role": "user", "content": "hi"},
            {"index": 1, "role": "assistant", "content": "Hello! How are you?"},
        ],
    }
    p = write(tmp_path, "convs.jsonl", json.dumps(line) + "\n")
    assert detect_format(p) == "jsonl"
    convs, fmt, _ = read_transcripts(p)
    assert fmt == "jsonl" and convs[0].turns[1].content == "Hello! How are you?"


# ----------------------------------------------------------------------------- bad input
def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_transcripts(tmp_path / "nope.jsonl")
    with pytest.raises(InputError, match="is a directory"):
        read_transcripts(tmp_path)


def test_empty_file(tmp_path):
    with pytest.raises(InputError, match="file is empty"):
        read_transcripts(write(tmp_path, "e.jsonl", "\n\n"))


def test_wrong_format_named_explicitly(tmp_path):
    p = write(tmp_path, "annomi.csv", ANNOMI)
    with pytest.raises(InputError, match="not BOLT CSV: missing column"):
        read_transcripts(p, "bolt")
    q = write(tmp_path, "other.csv", "a,b\n1,2\n")
    with pytest.raises(InputError, match="neither AnnoMI nor BOLT") as exc:
        read_transcripts(q)
    assert exc.value.line == 1


def test_bad_jsonl_lines_strict_then_lenient(tmp_path):
    good = {
        "messages": [{"role": "user", "content": "hey"}, {"role": "assistant", "content": "Hi!"}]
    }
    empty = {
        "messages": [{"role": "user", "content": "hey"}, {"role": "assistant", "content": "  "}]
    }
    raw = (
        json.dumps(good).encode()
        + b"\n"
        + b"{not json\n"
        + b'{"messages": "\xff\xfe"}\n'
        + json.dumps(empty).encode()
        + b"\n"
        + json.dumps(good).encode()
        + b"\n"
    )
    p = write(tmp_path, "bad.jsonl", raw)
    with pytest.raises(InputError) as exc:
        read_transcripts(p, "openai")
    assert exc.value.line == 2 and "not valid JSON" in str(exc.value)
    convs, _, skipped = read_transcripts(p, "openai", lenient=True)
    assert [e.line for e in skipped] == [2, 3, 4]
    assert "invalid UTF-8" in str(skipped[1])
    assert skipped[2].field == "messages.1.content" and "empty turn" in str(skipped[2])
    assert len(convs) == 3  # lines 1, 4 (empty turn kept, marked) and 5
    assert convs[1].turns[1].error == "empty turn"
    records = code_transcripts(convs)
    assert [r.dialog for r in records] == ["line-1", "line-5"]


def test_invalid_utf8_in_csv_names_the_line(tmp_path):
    raw = ANNOMI.encode().replace(b"creeping", b"cr\xffeeping")
    p = write(tmp_path, "annomi.csv", raw)
    with pytest.raises(InputError, match="invalid UTF-8") as exc:
        read_transcripts(p)
    assert exc.value.line == 4
    convs, _, skipped = read_transcripts(p, lenient=True)
    assert len(skipped) == 1 and sum(len(c.turns) for c in convs) == 3


def test_unknown_speaker_in_esconv(tmp_path):
    bad = [{"dialog": [{"speaker": "narrator", "content": "once upon a time"}]}]
    p = write(tmp_path, "x.json", json.dumps(bad))
    with pytest.raises(InputError, match="unknown speaker 'narrator'") as exc:
        read_transcripts(p)
    assert exc.value.field == "0.dialog.0.speaker"


def test_huge_turn_is_truncated_and_marked(tmp_path):
    big = "This is a long sentence about my week. " * 2600  # about 100 kB
    line = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": big}]}
    p = write(tmp_path, "big.jsonl", json.dumps(line))
    convs, _, skipped = read_transcripts(p)
    turn = convs[0].turns[1]
    assert skipped == [] and len(turn.content) == MAX_TURN_CHARS
    assert turn.metadata["truncated_from"] == len(big)


def test_roles_parse_aliases():
    assert parse_roles("supporter") == {"assistant"}
    assert parse_roles(["client", "therapist"]) == {"user", "assistant"}
    with pytest.raises(InputError, match="unknown role"):
        parse_roles("narrator")


# ----------------------------------------------------------------------------- gold labels
def test_gold_mapping_tables():
    assert gold_acts("esconv", "Question") >= {"ask_open", "checkin"}
    assert gold_acts("annomi", "therapist_input") == {"advise", "inform"}
    assert gold_acts("bolt", "Questions on Emotions") == {"checkin"}
    assert gold_acts("bolt", "Normalizing") == {"validate"}
    assert gold_acts("esconv", "Nonsense") is None


def test_gold_agreement_on_coded_esconv(tmp_path):
    p = write(tmp_path, "esconv.json", json.dumps(ESCONV_A + ESCONV_B))
    convs, _, _ = read_transcripts(p)
    records = code_transcripts(convs, roles=parse_roles("supporter"))
    assert [r.gold for r in records] == [
        ["Question"],
        ["Providing Suggestions"],
        ["Reflection of feelings"],
    ]
    agreement = gold_agreement(convs)
    assert agreement.scheme == "esconv" and agreement.n_turns == 3
    assert agreement.agreement.value is not None and 0.0 <= agreement.agreement.value <= 1.0
    assert set(agreement.per_label) == {
        "Question",
        "Providing Suggestions",
        "Reflection of feelings",
    }


@pytest.mark.parametrize(("name", "text"), [("annomi.csv", ANNOMI), ("bolt.csv", BOLT)])
def test_csv_row_with_missing_cells_strict_then_lenient(tmp_path, name, text):
    lines = text.strip("\n").split("\n")
    short = lines[:2] + [lines[1].split(",")[0]] + lines[2:]  # line 3 has one cell
    p = write(tmp_path, name, "\n".join(short) + "\n")
    with pytest.raises(InputError, match="columns, expected") as exc:
        read_transcripts(p)
    assert exc.value.line == 3
    _, _, skipped = read_transcripts(p, lenient=True)
    assert [e.line for e in skipped] == [3]
