"""The rollout engine: deterministic ids and seeds, timeouts, and resume after a real kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_server import Fault, FaultServer

from attunement.backends import load_backend
from attunement.coding import load_coder
from attunement.errors import ConfigError
from attunement.jsonl import read_jsonl
from attunement.simulate.policies import scripted_policy
from attunement.simulate.rollout import (
    RolloutSettings,
    derive_seed,
    load_finished,
    plan_dialogues,
    run_dialogue,
    run_rollouts,
)
from attunement.simulate.run import CONVERSATIONS_FILE, read_config, run_eval
from attunement.simulate.structural import StructuralUser
from attunement.types import Conversation, HiddenFact, Persona, RunConfig, Scenario


def _scenario(i: int, need: str = "vent") -> Scenario:
    return Scenario(
        id=f"t-{need}-{i}",
        domain="work",
        persona=Persona(name=f"P{i}"),
        opening=f"My team lead ignored my proposal again, number {i}, and I feel invisible.",
        need=need,
        hidden_facts=[HiddenFact(id="before", text="It happened before.", cues=["before"])],
        max_turns=4,
    )


SCENARIOS = [_scenario(i) for i in range(5)]


def _stable(conv: Conversation) -> dict[str, Any]:
    """A conversation without wall-clock fields."""
    data = conv.model_dump(mode="json")
    data["metadata"].pop("wall_s", None)
    for turn in data["turns"]:
        turn["latency"] = None
    return data


# ----------------------------------------------------------------------------- determinism
def test_ids_and_seeds_are_deterministic_and_epochs_differ():
    a = plan_dialogues(SCENARIOS, epochs=3, seed=7)
    b = plan_dialogues(SCENARIOS, epochs=3, seed=7)
    assert [(s.id, s.seed) for s in a] == [(s.id, s.seed) for s in b]
    assert len({s.id for s in a}) == 15 and a[0].id == "t-vent-0-e0" and a[-1].id == "t-vent-4-e2"
    seeds_of_0 = [s.seed for s in a if s.scenario.id == "t-vent-0"]
    assert len(set(seeds_of_0)) == 3  # epochs repeat with different seeds
    other_run = plan_dialogues(SCENARIOS, epochs=3, seed=8)
    assert [s.seed for s in other_run] != [s.seed for s in a]
    assert derive_seed(7, "t-vent-0", 1) == a[5].seed
    limited = plan_dialogues(SCENARIOS, epochs=2, seed=7, limit=2, max_turns=2)
    assert [s.id for s in limited] == ["t-vent-0-e0", "t-vent-1-e0", "t-vent-0-e1", "t-vent-1-e1"]
    assert all(s.scenario.max_turns == 2 for s in limited)


def test_same_seed_same_dialogues(tmp_path: Path):
    import asyncio

    coder = load_coder("local")
    specs = plan_dialogues(SCENARIOS, epochs=2, seed=3)

    def once(name: str) -> list[Conversation]:
        return asyncio.run(
            run_rollouts(
                specs,
                policy=scripted_policy("reflector"),
                user=StructuralUser(),
                coder=coder,
                out_path=tmp_path / name,
                progress=False,
            )
        )

    first, second = once("a.jsonl"), once("b.jsonl")
    assert [_stable(c) for c in first] == [_stable(c) for c in second]
    assert [c.id for c in first] == [s.id for s in specs]
    on_disk = read_jsonl(tmp_path / "a.jsonl", Conversation).items
    assert sorted(c.id for c in on_disk) == sorted(s.id for s in specs)
    # epochs differ in their seeds, and the seeded noise of the user moves the trajectory
    e0 = [c.emotions for c in first if c.epoch == 0]
    e1 = [c.emotions for c in first if c.epoch == 1]
    assert e0 != e1


# ----------------------------------------------------------------------------- timeouts
def test_turn_timeout_is_recorded_not_raised():
    import asyncio

    with FaultServer() as server:
        server.plan("x", *[Fault.hang(10)] * 3)
        sc = _scenario(0).model_copy(update={"opening": "x"})
        policy = load_backend(f"openai:m@{server.base_url}", cache=False, max_retries=0)
        t0 = time.monotonic()
        conv = asyncio.run(
            run_dialogue(
                plan_dialogues([sc])[0],
                policy=policy,
                user=StructuralUser(),
                coder=load_coder("local"),
                settings=RolloutSettings(turn_timeout=0.5, dialogue_timeout=30),
            )
        )
        assert time.monotonic() - t0 < 5
    assert conv.end_reason == "timeout"
    assert conv.error == "turn 1: policy call ran past the 0.5s turn timeout"
    assert [t.role for t in conv.turns] == ["user"] and conv.emotion_final == sc.emotion_start


# ----------------------------------------------------------------------------- resume
def test_load_finished_drops_a_torn_line_and_duplicates(tmp_path: Path):
    path = tmp_path / CONVERSATIONS_FILE
    good = [Conversation(id=f"d{i}", scenario_id="s") for i in range(3)]
    lines = [c.model_dump_json() for c in good] + [good[0].model_dump_json()]
    path.write_text("\n".join(lines) + "\n" + good[2].model_dump_json()[:40])  # torn tail
    items = load_finished(path)
    assert [c.id for c in items] == ["d0", "d1", "d2"]
    text = path.read_text()
    assert text.endswith("\n") and len(text.splitlines()) == 3  # rewritten cleanly
    assert load_finished(tmp_path / "missing.jsonl") == []


_SLOW_REPLIES = (
    "That sounds really hard. What has been the hardest part?",
    "So it keeps happening. Would you like ideas, or to talk it through?",
)


def slow_server_for(delay: float) -> FaultServer:
    """A real server that answers every chat call after ``delay`` seconds, alternating two
    supportive replies by turn."""

    def reply(payload: dict[str, Any], _n: int) -> str:
        turn = sum(1 for m in payload["messages"] if m["role"] == "assistant")
        return _SLOW_REPLIES[turn % 2]

    return FaultServer(reply=reply, delay=delay)


@pytest.fixture
def slow_server() -> Iterator[FaultServer]:
    # 0.5 s a call: the 8 dialogues take about 4 s, so the test's poll (every 0.05 s) sees 2
    # finished and signals long before the run ends, even when this shared machine stalls the
    # test process for a second or two
    with slow_server_for(delay=0.5) as server:
        yield server


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _start_and_kill(out: Path, server: FaultServer, tmp_path: Path, sig: int) -> tuple[int, str]:
    """Start `attune eval` in a subprocess, send ``sig`` once 2 dialogues are written."""
    args = [
        sys.executable, "-m", "attunement.cli.main", "eval", "--model",
        f"openai:slow@{server.base_url}", "--suite", "core", "--limit", "8", "--max-turns", "2",
        "--max-connections", "2", "--no-cache", "--out", str(out), "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "ATTUNE_CACHE_DIR": str(tmp_path / "cache")}
    # A shell starts background jobs with SIGINT ignored, and children inherit that (Python
    # then installs no Ctrl-C handler): give the run the default, as a terminal would, so the
    # test means the same under `.ci/run &` as in a terminal.
    proc = subprocess.Popen(
        args,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    conv_path = out / CONVERSATIONS_FILE
    deadline = time.monotonic() + 90
    while len(_lines(conv_path)) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=30)
    return proc.returncode, err.decode()


def test_resume_after_sigkill_finishes_without_duplicates(tmp_path: Path, slow_server: FaultServer):
    out = tmp_path / "run"
    code, err = _start_and_kill(out, slow_server, tmp_path, signal.SIGKILL)
    assert code == -signal.SIGKILL, err[-2000:]

    conv_path = out / CONVERSATIONS_FILE
    survived = _lines(conv_path)
    assert 2 <= len(survived) < 8, "killed mid-run, with some dialogues finished"
    survivors = [Conversation.model_validate_json(line) for line in survived if line.strip()]

    config = read_config(out)
    assert config.model.startswith("openai:slow@") and config.scenario_bank_hash
    result = run_eval(config, out, resume=True, progress=False)
    assert result.resumed == len(survivors) and result.new == 8 - len(survivors)

    final = read_jsonl(conv_path, Conversation).items
    ids = [c.id for c in final]
    assert len(ids) == 8 and len(set(ids)) == 8  # complete, no duplicates
    kept = {c.id: c for c in final}
    for conv in survivors:  # finished conversations survived the kill unchanged
        assert kept[conv.id].model_dump() == conv.model_dump()
    assert json.loads((out / "summary.json").read_text())["run"]["dialogues"] == 8


def test_ctrl_c_keeps_finished_dialogues(tmp_path: Path, slow_server: FaultServer):
    out = tmp_path / "run"
    code, err = _start_and_kill(out, slow_server, tmp_path, signal.SIGINT)
    assert code == 130, err[-2000:]
    assert "interrupted" in err and "Traceback" not in err
    text = (out / CONVERSATIONS_FILE).read_text()
    assert text.endswith("\n")
    assert 2 <= len(read_jsonl(out / CONVERSATIONS_FILE, Conversation).items) < 8


def test_fresh_run_refuses_a_used_folder_and_resume_checks_config(tmp_path: Path):
    config = RunConfig(model="scripted:solver", suite="core", limit=2, max_turns=2)
    run_eval(config, tmp_path, progress=False)
    with pytest.raises(ConfigError, match="already holds conversations"):
        run_eval(config, tmp_path, progress=False)
    other = config.model_copy(update={"model": "scripted:asker"})
    with pytest.raises(ConfigError, match="different configuration"):
        run_eval(other, tmp_path, resume=True, progress=False)
    again = run_eval(config, tmp_path, resume=True, progress=False)
    assert again.new == 0 and again.resumed == 2


def test_dialogue_timeout_keeps_finished_turns():
    import asyncio

    with slow_server_for(delay=0.4) as server:  # 4 turns x 0.4 s > the 1 s dialogue budget
        policy = load_backend(f"openai:m@{server.base_url}", cache=False, max_retries=0)
        conv = asyncio.run(
            run_dialogue(
                plan_dialogues([_scenario(1)])[0],
                policy=policy,
                user=StructuralUser(),
                coder=load_coder("local"),
                settings=RolloutSettings(turn_timeout=5, dialogue_timeout=1.0),
            )
        )
    assert conv.end_reason == "timeout" and conv.error == "dialogue ran past 1s"
    assert sum(t.role == "assistant" for t in conv.turns) >= 1  # what finished is kept
