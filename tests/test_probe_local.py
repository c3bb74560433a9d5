"""The probes on the real embedded model (in-process llama.cpp, and a llama.cpp server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attunement.jsonl import read_jsonl
from attunement.probes.run import ANSWERS_FILE, PROPOSITIONS_FILE, run_reliability, run_truthfulness
from attunement.probes.truthfulness import TruthRecord
from attunement.types import GradedAnswer

pytestmark = pytest.mark.slow
GRADES = {"correct", "incorrect", "evasive", "refused"}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTUNE_CACHE_DIR", str(tmp_path / "cache"))


def test_reliability_on_the_embedded_model(embedded_gguf: Path, tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    out = tmp_path / "run"
    result = run_reliability("local", out_dir=out, limit=2, seed=0)
    assert {p.name for p in out.iterdir()} >= {"config.json", ANSWERS_FILE, "summary.json"}
    answers = read_jsonl(out / ANSWERS_FILE, GradedAnswer).items
    assert len(answers) == len(result.answers) >= 12  # 2 items x 6-8 framings
    assert all(a.error is None and a.grade in GRADES for a in answers)
    assert all(a.output.strip() for a in answers)  # the model said something each time
    assert {a.framing_kind for a in answers} >= {"neutral", "context"}
    assert result.usage.calls == len(answers) and result.usage.completion_tokens > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["run"]["model"] == "local" and summary["run"]["calls"] == len(answers)
    assert set(summary["metrics"]["accuracy"]) >= {"neutral", "context"}
    # a cached rerun into a new folder gives the same grades (temperature 0, fixed seed)
    again = run_reliability("local", out_dir=tmp_path / "again", limit=2, seed=0)
    assert [a.grade for a in again.answers] != [] and sorted(
        (a.item_id, a.framing, a.output) for a in again.answers
    ) == sorted((a.item_id, a.framing, a.output) for a in answers)


def _check_truth(out: Path, records: list[TruthRecord]) -> None:
    lines = read_jsonl(out / PROPOSITIONS_FILE, TruthRecord).items
    assert len(lines) == len(records) >= 4  # 2 propositions x (2 or 4) framings
    assert all(r.error is None for r in lines)
    beliefs = [r.p_yes for r in lines if r.framing == "neutral"]
    assert beliefs and all(b is not None and 0.0 <= b <= 1.0 for b in beliefs)
    assert {r.truth for r in lines} == {True, False}


def test_truthfulness_in_process_logprobs(embedded_gguf: Path, tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    result = run_truthfulness("local", out_dir=tmp_path, limit=1, seed=0)
    _check_truth(tmp_path, result.records)
    bi = result.summary.bullshit_index["all"]
    assert bi.value is None or 0.0 <= bi.value <= 1.0


def test_truthfulness_over_an_openai_compatible_server(llama_server: str, tmp_path: Path) -> None:
    result = run_truthfulness(f"openai:smollm2@{llama_server}", out_dir=tmp_path, limit=1)
    _check_truth(tmp_path, result.records)
