"""The scripted probe policies through the real run pipeline (shipped bank, run folders)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attunement.backends import load_backend
from attunement.errors import ConfigError
from attunement.jsonl import read_jsonl
from attunement.probes.policies import PROBE_POLICIES, ProbePolicy
from attunement.probes.run import (
    ANSWERS_FILE,
    PROPOSITIONS_FILE,
    run_reliability,
    run_truthfulness,
)
from attunement.probes.truthfulness import TruthRecord
from attunement.types import GradedAnswer

LIMIT = 24


@pytest.fixture(scope="module")
def reliability(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("probe")
    return {
        name: run_reliability(f"scripted:{name}", out_dir=base / name, limit=LIMIT, seed=7)
        for name in PROBE_POLICIES
    }


def test_key_policy_is_always_right_and_never_sycophantic(reliability: dict) -> None:
    s = reliability["key"].summary
    assert all(e.value == 1.0 for e in s.accuracy.values())
    assert all(e.value == 0.0 for e in s.drop.values())
    assert s.sycophancy.value == 0.0
    assert all(e.value == 0.0 for e in s.evasion.values())


def test_sycophant_adopts_stated_beliefs(reliability: dict) -> None:
    s = reliability["sycophant"].summary
    assert s.sycophancy.value == 1.0 and s.sycophancy.n > 0
    assert s.accuracy["neutral"].value == 1.0
    assert s.accuracy["context"].value == 1.0
    assert s.accuracy["false_belief"].value == 0.0
    assert s.drop["false_belief"].value == 1.0
    assert s.flip["context+false_belief"].value == 1.0
    assert s.sycophancy_baseline.value == 0.0


def test_hedger_evades(reliability: dict) -> None:
    s = reliability["hedger"].summary
    assert all(e.value == 1.0 for e in s.evasion.values())
    assert all(e.value == 0.0 for e in s.accuracy.values())
    assert s.flip["context"].value is None  # no item is right when neutral
    assert s.sycophancy.value == 0.0


def test_run_folder_and_resume(reliability: dict) -> None:
    r = reliability["sycophant"]
    config = json.loads((r.out_dir / "config.json").read_text())
    assert config["kind"] == "probe" and config["model"] == "scripted:sycophant"
    assert config["extra"]["n_items"] == LIMIT and config["scenario_bank_hash"]
    lines = read_jsonl(r.out_dir / ANSWERS_FILE, GradedAnswer).items
    assert len(lines) == len(r.answers) > 6 * LIMIT
    assert {a.grade for a in lines} <= {"correct", "incorrect", "evasive", "refused"}
    summary = json.loads((r.out_dir / "summary.json").read_text())
    assert summary["run"]["probe"] == "reliability"
    assert summary["metrics"]["sycophancy"]["value"] == 1.0
    again = run_reliability("scripted:sycophant", out_dir=r.out_dir, limit=LIMIT, seed=7)
    assert again.new == 0 and len(again.answers) == len(r.answers)
    with pytest.raises(ConfigError, match="different run"):
        run_reliability("scripted:sycophant", out_dir=r.out_dir, limit=LIMIT, seed=8)


def test_resume_after_a_partial_run(tmp_path: Path) -> None:
    first = run_reliability("scripted:key", out_dir=tmp_path, limit=6)
    path = tmp_path / ANSWERS_FILE
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:10]) + "\n" + lines[10][:25])  # a kill mid-line
    again = run_reliability("scripted:key", out_dir=tmp_path, limit=6)
    assert again.new == len(lines) - 10
    assert len(read_jsonl(path, GradedAnswer).items) == len(first.answers)


def test_truthfulness_on_scripted_policies(tmp_path: Path) -> None:
    key = run_truthfulness("scripted:key", out_dir=tmp_path / "key", limit=12)
    bi = key.summary.bullshit_index
    assert all(e.value == pytest.approx(0.0) for e in bi.values())
    assert key.summary.belief_accuracy.value == 1.0
    syc = run_truthfulness("scripted:sycophant", out_dir=tmp_path / "syc", limit=12)
    bi = syc.summary.bullshit_index
    assert bi["neutral"].value == pytest.approx(0.0)
    assert bi["context"].value == pytest.approx(1.0)  # says yes to all: indifferent to belief
    assert syc.summary.deceptive_yes["context"].value == 1.0
    hedge = run_truthfulness("scripted:hedger", out_dir=tmp_path / "hedge", limit=12)
    assert hedge.summary.bullshit_index["all"].value is None
    assert hedge.summary.n_no_claim == len(hedge.records)
    recs = read_jsonl(tmp_path / "syc" / PROPOSITIONS_FILE, TruthRecord).items
    assert len(recs) == len(syc.records) and {r.truth for r in recs} == {True, False}


def test_load_backend_finds_probe_policies() -> None:
    backend = load_backend("scripted:sycophant")
    assert isinstance(backend, ProbePolicy) and backend.name == "scripted:sycophant"


def test_backend_without_logprobs_is_a_clear_error(tmp_path: Path) -> None:
    # scripted:solver (the eval's advice-giving policy) returns no log-probabilities
    with pytest.raises(ConfigError, match="no log-probabilities.*llamacpp"):
        run_truthfulness("scripted:solver", out_dir=tmp_path, limit=2)


def test_truthfulness_resume_and_no_duplicates(tmp_path: Path) -> None:
    first = run_truthfulness("scripted:key", out_dir=tmp_path, limit=5)
    keys = [(r.item_id, r.candidate, r.framing) for r in first.records]
    assert len(keys) == len(set(keys))
    path = tmp_path / PROPOSITIONS_FILE
    lines = path.read_text().splitlines()
    kept = [x for x in lines if '"framing":"neutral"' not in x]  # lose every bare answer
    path.write_text("\n".join(kept) + "\n")
    again = run_truthfulness("scripted:key", out_dir=tmp_path, limit=5)
    assert again.new == len(lines) - len(kept) > 0
    assert len(again.records) == len(first.records)
    assert again.summary.bullshit_index["all"].value == pytest.approx(0.0)


def test_frontier_with_a_real_eval_run(reliability: dict, tmp_path: Path) -> None:
    from attunement.probes.run import frontier
    from attunement.simulate.run import run_eval
    from attunement.types import RunConfig

    run_eval(RunConfig(model="scripted:sycophant", limit=2, max_turns=2), tmp_path / "e",
             progress=False)  # fmt: skip
    png = tmp_path / "frontier.png"
    probes = [reliability["sycophant"].out_dir, reliability["key"].out_dir]
    points = frontier(probes, [tmp_path / "e"], png)
    assert [p.model for p in points] == ["scripted:sycophant"]  # key has no eval run
    assert points[0].final_emotion.value is not None and 0 <= points[0].final_emotion.value <= 100
    assert points[0].accuracy_drop.value == 0.0  # context framing alone does not move it
    assert png.read_bytes()[:4] == b"\x89PNG"
