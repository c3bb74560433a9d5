"""`attune eval` end to end in a real subprocess: the run folder, the table, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from attunement.jsonl import read_jsonl
from attunement.scenarios import load_scenarios, select_suite
from attunement.types import Conversation, RunConfig


def _attune(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "attunement.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=None if env is None else {**os.environ, **env},
    )


def test_eval_writes_the_run_folder_and_prints_the_table(tmp_path: Path):
    out = tmp_path / "run"
    res = _attune("eval", "--model", "scripted:reflector", "--suite", "core", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert {p.name for p in out.iterdir()} == {
        "config.json",
        "conversations.jsonl",
        "summary.json",
        "report.html",
    }

    config = RunConfig.model_validate_json((out / "config.json").read_text())
    assert config.model == "scripted:reflector" and config.suite == "core"
    assert config.scenario_bank_hash and config.versions["attunement"]

    convs = read_jsonl(out / "conversations.jsonl", Conversation).items
    core = select_suite(load_scenarios(), "core")
    assert sorted(c.id for c in convs) == sorted(f"{s.id}-e0" for s in core)
    assert all(c.config_hash == config.config_hash() for c in convs)

    summary = json.loads((out / "summary.json").read_text())
    final = summary["metrics"]["emotion"]["final_emotion"]
    assert final["low"] <= final["value"] <= final["high"]
    assert summary["run"]["dialogues"] == len(core)
    assert "final emotion" in res.stdout and str(out) in res.stdout.replace("\n", "")


def test_bad_suite_is_one_line_exit_2_and_writes_nothing(tmp_path: Path):
    out = tmp_path / "run"
    res = _attune("eval", "--model", "scripted:solver", "--suite", "nope", "--out", str(out))
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown suite 'nope'" in lines[0]
    assert "Traceback" not in res.stderr and not out.exists()


def test_bad_spec_is_one_line_exit_2(tmp_path: Path):
    for spec in ("gpt4", "scripted:nagger"):
        res = _attune("eval", "--model", spec, "--out", str(tmp_path / "run"))
        assert res.returncode == 2, res.stderr
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and spec in lines[0], lines
        assert "Traceback" not in res.stderr


def test_resume_of_a_folder_that_is_not_a_run(tmp_path: Path):
    res = _attune("eval", "--resume", str(tmp_path))
    assert res.returncode == 2
    assert "not a run folder" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_missing_model_is_one_line(tmp_path: Path):
    res = _attune("eval", "--out", str(tmp_path / "x"))
    assert res.returncode == 2 and "--model is required" in res.stderr


@pytest.mark.slow
def test_demo_runs_the_local_model_beside_the_scripted_policies(tmp_path: Path):
    pytest.importorskip("llama_cpp", reason="install with: pip install 'attunement[local]'")
    out = tmp_path / "demo"
    cache = {"ATTUNE_CACHE_DIR": str(tmp_path / "cache")}
    res = _attune("demo", "--out", str(out), "--limit", "2", "--quiet", env=cache)
    assert res.returncode == 0, res.stderr[-2000:]
    folders = sorted(p.name for p in out.iterdir())
    assert folders == ["local", "scripted-asker", "scripted-reflector", "scripted-solver"]
    for name in folders:
        files = {p.name for p in (out / name).iterdir()}
        assert files == {"config.json", "conversations.jsonl", "summary.json", "report.html"}
        assert len((out / name / "conversations.jsonl").read_text().splitlines()) == 2
    for spec in ("scripted:reflector", "scripted:solver", "scripted:asker", "local"):
        assert spec in res.stdout
    assert "final emotion" in res.stdout and str(out) in res.stdout.replace("\n", "")
