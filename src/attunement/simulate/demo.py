"""The demo: the embedded model beside the scripted reference policies, offline, in minutes.

It runs a small suite (a few scenarios of every need, short dialogues) with the structural
user and the local coder against ``local`` (SmolLM2-135M, embedded; there to show the
machinery, not as a subject of study) and the three scripted policies, which bracket what the
simulator rewards: ``reflector`` (understands, then advises), ``solver`` (advises at once),
``asker`` (only asks). Each policy gets its own run folder under the demo folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from attunement.types import NEEDS, RunConfig

if TYPE_CHECKING:
    from attunement.simulate.run import RunResult

DEMO_POLICIES: tuple[str, ...] = (
    "scripted:reflector",
    "scripted:solver",
    "scripted:asker",
    "local",
)
DEMO_FROM_SUITE = "core"
DEMO_SIZE = 8
DEMO_MAX_TURNS = 4
DEMO_MAX_TOKENS = 80


@dataclass(frozen=True)
class DemoSettings:
    """What the demo runs; the defaults keep it under 5 minutes on 2 CPU cores."""

    policies: tuple[str, ...] = DEMO_POLICIES
    suite: str | None = None  # None: ``demo_suite(size)``, core scenarios of every need
    size: int = DEMO_SIZE
    max_turns: int = DEMO_MAX_TURNS
    max_tokens: int = DEMO_MAX_TOKENS
    seed: int = 0


def demo_suite(size: int = DEMO_SIZE) -> str:
    """The demo's scenarios as a suite string (comma list of ids): round-robin over the needs
    of the core suite, in id order, so even a small demo covers every need.
    """
    from attunement.scenarios import load_scenarios, select_suite

    core = sorted(select_suite(load_scenarios(), DEMO_FROM_SUITE), key=lambda s: s.id)
    queues = {need: [s.id for s in core if s.need == need] for need in NEEDS}
    chosen: list[str] = []
    while len(chosen) < size and any(queues.values()):
        for need in NEEDS:
            if queues[need] and len(chosen) < size:
                chosen.append(queues[need].pop(0))
    return ",".join(chosen)


def run_folder_name(spec: str) -> str:
    """A folder name for a model spec.

    >>> run_folder_name("scripted:reflector")
    'scripted-reflector'
    """
    return re.sub(r"[^A-Za-z0-9._-]+", "-", spec).strip("-") or "run"


def demo_config(spec: str, settings: DemoSettings) -> RunConfig:
    """The RunConfig of one demo policy."""
    return RunConfig(
        model=spec,
        suite=settings.suite or demo_suite(settings.size),
        max_turns=settings.max_turns,
        max_tokens=settings.max_tokens,
        seed=settings.seed,
        max_connections=1 if spec == "local" else 4,
        turn_timeout=120.0,
        dialogue_timeout=600.0,
    )


async def arun_demo(
    out_dir: str | Path, *, settings: DemoSettings | None = None, progress: bool = True
) -> dict[str, RunResult]:
    """Run every demo policy into ``out_dir/<policy>``; returns spec -> RunResult."""
    from attunement.simulate.run import arun_eval

    settings = settings or DemoSettings()
    if settings.suite is None:
        settings = replace(settings, suite=demo_suite(settings.size))
    out = Path(out_dir)
    results: dict[str, RunResult] = {}
    for spec in settings.policies:
        results[spec] = await arun_eval(
            demo_config(spec, settings),
            out / run_folder_name(spec),
            progress=progress,
            label=spec,
        )
    return results
