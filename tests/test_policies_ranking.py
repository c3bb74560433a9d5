"""The full pipeline ranks the scripted policies as the literature predicts.

Scripted policies + structural user + local coder, through ``run_eval`` on the core suite:
- reflecting and asking first beats advising at once for people who want to be heard or
  validated (ESConv: empathy 3.90 when understanding came first vs 3.63; BOLT; AnnoMI);
- advising at once is competitive on clear tasks (CollabLLM: over-asking costs);
- only asking is punished on clear tasks and never reaches fitting advice (ESConv: questions
  are the lowest-rated strategy; questions alone do not satisfy).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from attunement.simulate.run import RunResult, run_eval
from attunement.types import RunConfig

POLICIES = ("reflector", "solver", "asker")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RunResult]:
    root: Path = tmp_path_factory.mktemp("ranking")
    return {
        name: run_eval(
            RunConfig(model=f"scripted:{name}", suite="core", epochs=2, seed=11),
            root / name,
            progress=False,
        )
        for name in POLICIES
    }


def _need(result: RunResult, need: str, metric: str = "final_emotion") -> float:
    by_need: dict[str, Any] = result.summary["metrics"]["emotion"]["by_need"]
    return by_need[need][metric]["value"]


def test_runs_are_complete_and_clean(runs: dict[str, RunResult]):
    for result in runs.values():
        assert result.errors == 0
        assert result.new == len(result.conversations) > 0
        needs = set(result.summary["metrics"]["emotion"]["by_need"])
        assert {"vent", "validation", "clear_task", "advice"} <= needs


@pytest.mark.parametrize("need", ["vent", "validation"])
def test_reflector_beats_solver_when_the_need_is_to_be_heard(runs: dict[str, RunResult], need: str):
    reflector, solver = _need(runs["reflector"], need), _need(runs["solver"], need)
    assert reflector >= solver + 15, (need, reflector, solver)
    assert _need(runs["reflector"], need, "success_rate") > _need(
        runs["solver"], need, "success_rate"
    )


def test_solver_is_competitive_on_clear_tasks(runs: dict[str, RunResult]):
    solver = _need(runs["solver"], "clear_task")
    reflector = _need(runs["reflector"], "clear_task")
    assert solver >= reflector - 5, (solver, reflector)
    direct = runs["solver"].summary["metrics"]["ambiguity"]["direct_rate_clear"]["value"]
    assert direct >= 0.9


def test_asker_is_punished_on_clear_tasks(runs: dict[str, RunResult]):
    asker = _need(runs["asker"], "clear_task")
    assert asker < _need(runs["solver"], "clear_task") - 10
    assert asker < 40  # below where the clear-task users started
    assert _need(runs["asker"], "clear_task", "success_rate") == 0.0


def test_asker_never_reaches_fitting_advice(runs: dict[str, RunResult]):
    convs = runs["asker"].conversations
    solve_turns = [
        t
        for c in convs
        for t in c.assistant_turns()
        if t.codes is not None and t.codes.act_set & {"advise", "inform"}
    ]
    assert not solve_turns, "the asker only asks"
    fitting = [r for c in convs for t in c.turns for r in t.reasons if r.startswith("fitting_")]
    assert not fitting
    assert _need(runs["asker"], "advice", "success_rate") == 0.0
    # ... while it does ask on ambiguous requests (the one place asking is the point)
    ask = runs["asker"].summary["metrics"]["ambiguity"]["ask_rate_ambiguous"]["value"]
    assert ask == 1.0


def _share(turns: list, acts: set[str]) -> float:
    spans = [s for t in turns for s in t.codes.spans]
    return sum(s.act in acts for s in spans) / len(spans)


def test_the_local_coder_codes_the_scripted_lines_as_written(runs: dict[str, RunResult]):
    """The policies mean what they say: otherwise the ranking would test the coder's errors."""

    def turns(name: str, index: slice) -> list:
        return [t for c in runs[name].conversations for t in c.assistant_turns()[index]]

    assert _share(turns("solver", slice(None)), {"advise"}) >= 0.95
    asks = {"ask_open", "ask_clarify", "ask_need", "ask_permission"}
    assert _share(turns("asker", slice(None)), asks) >= 0.95
    first = turns("reflector", slice(0, 1))
    assert _share(first, {"reflect_feeling", "validate", "ask_open"}) >= 0.9
    assert not any("advise" in t.codes.act_set for t in turns("reflector", slice(0, 2)))
    later = turns("reflector", slice(2, None))
    assert sum("advise" in t.codes.act_set for t in later) / len(later) >= 0.8
