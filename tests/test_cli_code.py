"""`attune code` end to end through the real CLI process: output lines, summary, formats,
bad input as one line with its location (no traceback), --skip-bad."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ATTUNE = [sys.executable, "-m", "attunement.cli.main"]


def attune(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*ATTUNE, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


def conv_line(cid: str, *turns: tuple[str, str]) -> str:
    return json.dumps(
        {
            "id": cid,
            "turns": [{"index": i, "role": r, "content": c} for i, (r, c) in enumerate(turns)],
        }
    )


@pytest.fixture
def convs(tmp_path: Path) -> Path:
    p = tmp_path / "convs.jsonl"
    p.write_text(
        "\n".join(
            [
                conv_line(
                    "a",
                    ("user", "I'm so stressed about my exam, I can't sleep."),
                    ("assistant", "That sounds exhausting. You should try a short walk tonight."),
                    ("user", "ok"),
                    ("assistant", "How are you feeling now?"),
                ),
                conv_line(
                    "b",
                    ("user", "fix my code"),
                    ("assistant", "Sure! Which language is it? Could you paste the error?"),
                ),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return p


def test_codes_assistant_turns_with_ids_and_acts(convs, tmp_path):
    out = tmp_path / "out.jsonl"
    res = attune("code", convs, "--out", out)
    assert res.returncode == 0, res.stderr
    assert "format: jsonl (detected)" in res.stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(r["dialog"], r["turn"], r["role"]) for r in rows] == [
        ("a", 1, "assistant"),
        ("a", 3, "assistant"),
        ("b", 1, "assistant"),
    ]
    first = rows[0]
    assert first["acts"] == ["reflect_feeling", "advise"]
    assert [s["act"] for s in first["spans"]] == first["acts"]
    assert all(0 < s["confidence"] <= 1 for r in rows for s in r["spans"])
    assert rows[1]["acts"] == ["checkin"]


def test_roles_option_codes_the_user_side(convs, tmp_path):
    out = tmp_path / "u.jsonl"
    res = attune("code", convs, "--out", out, "--roles", "seeker,client")
    assert res.returncode == 0, res.stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert {r["role"] for r in rows} == {"user"} and len(rows) == 3


def test_summary_prints_and_writes_estimates(convs, tmp_path):
    out = tmp_path / "out.jsonl"
    res = attune("code", convs, "--out", out, "--summary")
    assert res.returncode == 0, res.stderr
    assert "P(advise | feelings disclosed)" in res.stdout
    summary = json.loads((tmp_path / "out.summary.json").read_text())
    prof = summary["profile"]
    assert prof["p_advise_given_disclosure"]["value"] == 1.0
    assert prof["turns_to_first_advise"]["value"] == 1.0
    assert prof["act_turn_rate"]["checkin"]["n"] == 3
    assert set(prof["grounding"]["per_turn"]) == {"clarification", "acknowledgment", "follow_up"}
    assert summary["format"] == "jsonl" and summary["turns_coded"] == 3


def test_esconv_with_gold_agreement(tmp_path):
    data = [
        {
            "dialog": [
                {"speaker": "seeker", "content": "My dog died and I feel empty.", "annotation": {}},
                {
                    "speaker": "supporter",
                    "content": "What was your dog like?",
                    "annotation": {"strategy": "Question"},
                },
            ]
        }
    ]
    src = tmp_path / "es.json"
    src.write_text(json.dumps(data))
    res = attune("code", src, "--out", tmp_path / "o.jsonl", "--gold")
    assert res.returncode == 0, res.stderr
    summary = json.loads((tmp_path / "o.summary.json").read_text())
    assert summary["gold"]["scheme"] == "esconv" and summary["gold"]["n_turns"] == 1
    assert summary["gold"]["agreement"]["value"] == 1.0


def _one_line_error(res: subprocess.CompletedProcess) -> str:
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, res.stderr
    return lines[0]


def test_missing_file_is_one_line(tmp_path):
    line = _one_line_error(
        attune("code", tmp_path / "missing.jsonl", "--out", tmp_path / "o.jsonl")
    )
    assert "missing.jsonl: file not found" in line


def test_wrong_format_is_one_line(convs, tmp_path):
    line = _one_line_error(
        attune("code", convs, "--out", tmp_path / "o.jsonl", "--format", "annomi")
    )
    assert "not AnnoMI CSV" in line and "line 1" in line
    line = _one_line_error(attune("code", convs, "--out", tmp_path / "o.jsonl", "--format", "xml"))
    assert "--format 'xml'" in line


def test_bad_lines_stop_without_skip_bad_and_are_listed_with_it(tmp_path):
    src = tmp_path / "mixed.jsonl"
    good = conv_line("g", ("user", "hi"), ("assistant", "Hello! What's on your mind?"))
    empty = conv_line("e", ("user", "hi"), ("assistant", "   "))
    src.write_bytes(
        good.encode()
        + b"\nnot json at all\n"
        + b'{"id": "\xff"}\n'
        + empty.encode()
        + b"\n"
        + good.replace('"g"', '"g2"').encode()
        + b"\n"
    )
    out = tmp_path / "o.jsonl"
    line = _one_line_error(attune("code", src, "--out", out))
    assert "mixed.jsonl, line 2: not valid JSON" in line and "--skip-bad" in line
    assert not out.exists()
    res = attune("code", src, "--out", out, "--skip-bad")
    assert res.returncode == 0, res.stderr
    assert "skipped 3 bad input(s)" in res.stderr
    assert "line 3: invalid UTF-8" in res.stderr
    assert "line 4, field 'turns.1.content': empty turn" in res.stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["dialog"] for r in rows] == ["g", "g2"]


def test_huge_turn_is_truncated_with_a_warning(tmp_path):
    src = tmp_path / "big.jsonl"
    big = "I hear how much this weighs on you. " * 2900  # about 100 kB
    src.write_text(conv_line("big", ("user", "long story"), ("assistant", big)) + "\n")
    res = attune("code", src, "--out", tmp_path / "o.jsonl")
    assert res.returncode == 0, res.stderr
    assert "warning: truncated big, turn 1" in res.stderr.replace("\n", " ")
    row = json.loads((tmp_path / "o.jsonl").read_text())
    assert len(row["text"]) == 20_000 and row["spans"]


def test_the_output_file_is_the_same_with_and_without_the_compiled_path(tmp_path):
    """`attune code` writes byte for byte the same file whether the compiled hot loops run or
    the Python reference does (ATTUNE_PURE_PYTHON=1), on 600 labelled texts with their user
    turns: lists, headings, run-ons, curly quotes, dashes and emoji included."""
    import os

    from attunement.coding.train import data_files, load_labelled

    records = load_labelled(data_files()).records[::40]
    src = tmp_path / "in.jsonl"
    src.write_text(
        "\n".join(
            conv_line(r["id"], ("user", r["context"] or "hi"), ("assistant", r["text"]))
            for r in records
        )
        + "\n",
        encoding="utf-8",
    )
    outs = []
    for pure in ("0", "1"):
        out = tmp_path / f"out{pure}.jsonl"
        res = subprocess.run(
            [*ATTUNE, "code", str(src), "--out", str(out), "--quiet"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "ATTUNE_PURE_PYTHON": pure},
        )
        assert res.returncode == 0, res.stderr
        outs.append(out.read_bytes())
    assert len(records) > 500 and outs[0].count(b"\n") == len(records)
    assert outs[0] == outs[1]
    assert any(not r["text"].isascii() for r in records)
