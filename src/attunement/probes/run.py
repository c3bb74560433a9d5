"""Run a probe into a run folder: the public API behind `attune probe`.

A probe run folder has the same shape as an eval run: ``config.json`` (everything needed to
rerun), one JSON line per graded answer (``answers.jsonl``; ``propositions.jsonl`` for the
truthfulness probe), appended as each finishes, and ``summary.json`` (every metric with its
item-clustered CI). Rerunning into the same folder with the same config resumes: finished
answers are kept and skipped.

Example (a notebook; use the ``arun_*`` coroutines inside a running event loop):
    >>> r = run_reliability("scripted:sycophant", out_dir="runs/p", limit=20)  # doctest: +SKIP
    >>> r.summary.sycophancy.fmt()                                              # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from attunement.backends.base import ChatBackend
from attunement.errors import BackendError, ConfigError
from attunement.jsonl import JsonlAppender, read_jsonl, write_jsonl
from attunement.probes.framings import FramingMode, frame, plan_framings
from attunement.probes.grading import RULES_GRADER, grade_answer
from attunement.probes.items import bank_hash, load_items, select_items
from attunement.probes.llm_grader import LLMGrader
from attunement.probes.metrics import ProbeSummary, summarise
from attunement.probes.policies import PROBE_POLICIES
from attunement.probes.truthfulness import TruthRecord, TruthSummary, collect, summarise_truth
from attunement.types import GradedAnswer, Message, ProbeItem, RunConfig, Usage

R = TypeVar("R", GradedAnswer, TruthRecord)

CONFIG_FILE = "config.json"
ANSWERS_FILE = "answers.jsonl"
PROPOSITIONS_FILE = "propositions.jsonl"
SUMMARY_FILE = "summary.json"

# Items asked when no limit is given: the whole bank, except on the embedded 135M model, where
# these keep each probe under about 10 minutes on 2 CPU cores (benchmarks/probe_cost.py).
DEFAULT_LIMITS: dict[str, dict[str, int]] = {
    "reliability": {"local": 25},
    "truthfulness": {"local": 25},
}
MAX_TOKENS = 48

Limit = int | Literal["all"] | None
Progress = Callable[[int, int], None]


@dataclass
class ProbeResult:
    """What a reliability probe produced."""

    out_dir: Path
    config: RunConfig
    answers: list[GradedAnswer]
    summary: ProbeSummary
    usage: Usage
    wall_s: float
    new: int = 0


@dataclass
class TruthResult:
    """What a truthfulness probe produced."""

    out_dir: Path
    config: RunConfig
    records: list[TruthRecord]
    summary: TruthSummary
    usage: Usage
    wall_s: float
    new: int = 0


def resolve_limit(limit: Limit, model_spec: str, probe: str) -> int | None:
    """None means the model's default (see ``DEFAULT_LIMITS``); "all" means no limit."""
    if limit == "all":
        return None
    if limit is None:
        return DEFAULT_LIMITS[probe].get(model_spec.strip())
    if limit < 1:
        raise ConfigError(f"--limit must be at least 1 (or 'all'), got {limit}")
    return limit


def make_backend(
    spec: str, items: Sequence[ProbeItem], *, cache: bool = True, max_connections: int = 4
) -> ChatBackend:
    """The backend a spec names; scripted probe policies answer from ``items``."""
    head, _, name = spec.strip().partition(":")
    if head == "scripted" and name in PROBE_POLICIES:
        return PROBE_POLICIES[name](items)
    from attunement.backends import load_backend

    return load_backend(spec, cache=cache, max_connections=max_connections)


def _versions() -> dict[str, str]:
    from attunement.simulate.run import versions

    return versions()


def _resume_records(path: Path, model: type[R]) -> list[R]:
    """Records already written to ``path`` (resume): good lines kept, failed or torn ones
    dropped, and the file rewritten with the kept ones so new records append cleanly."""
    if not path.exists():
        return []
    kept = [r for r in read_jsonl(path, model, lenient=True).items if r.error is None]
    write_jsonl(path, kept)
    return kept


def _prepare(out_dir: Path, config: RunConfig, lines_file: str) -> None:
    """Write ``config.json``, or check that an existing one is the same run (resume)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / CONFIG_FILE
    if path.exists() and (out_dir / lines_file).exists():
        try:
            old = RunConfig.model_validate_json(path.read_text(encoding="utf-8"))
        except ValueError:
            raise ConfigError(f"{path}: not a run config; choose another --out") from None
        if old.config_hash() != config.config_hash() or old.extra != config.extra:
            raise ConfigError(
                f"{out_dir} holds a different run (config differs); choose another --out"
            )
    path.write_text(config.model_dump_json(indent=2) + "\n", encoding="utf-8")


def _write_summary(out_dir: Path, config: RunConfig, metrics: Any, extra: dict) -> None:
    summary = {
        "run": {
            "kind": "probe",
            "probe": config.suite,
            "model": config.model,
            "grader": config.coder,
            "seed": config.seed,
            "config_hash": config.config_hash(),
            "item_bank_hash": config.scenario_bank_hash,
            **extra,
        },
        "metrics": metrics.model_dump(mode="json"),
    }
    tmp = out_dir / (SUMMARY_FILE + ".tmp")
    tmp.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    tmp.replace(out_dir / SUMMARY_FILE)


def _select(
    items_path: str | Path | None, categories: Sequence[str] | None, limit: int | None, seed: int
) -> tuple[list[ProbeItem], list[ProbeItem]]:
    bank = load_items(items_path, categories=categories)
    return bank, select_items(bank, limit=limit, seed=seed)


def _probe_config(
    probe: str,
    model_spec: str,
    chosen: Sequence[ProbeItem],
    *,
    coder: str,
    items: str | Path | None,
    categories: Sequence[str] | None,
    framings: FramingMode,
    seed: int,
    limit: int | None,
    max_connections: int,
    temperature: float,
    max_tokens: int,
    cache: bool,
    **extra: Any,
) -> RunConfig:
    """The run's config.json: what ``--resume`` compares before adding to a run folder."""
    return RunConfig(
        kind="probe",
        model=model_spec,
        user="none",
        coder=coder,
        suite=probe,
        seed=seed,
        limit=limit,
        max_connections=max_connections,
        temperature=temperature,
        max_tokens=max_tokens,
        cache=cache,
        scenario_bank_hash=bank_hash(chosen),
        versions=_versions(),
        extra={
            "framings": framings,
            "items": str(items) if items else "shipped",
            "categories": list(categories) if categories else None,
            "n_items": len(chosen),
            **extra,
        },
    )


async def arun_reliability(
    model_spec: str,
    *,
    out_dir: str | Path,
    grader: str | None = None,
    items: str | Path | None = None,
    categories: Sequence[str] | None = None,
    limit: Limit = None,
    seed: int = 0,
    framings: FramingMode = "sample",
    max_connections: int = 4,
    max_tokens: int = MAX_TOKENS,
    temperature: float = 0.0,
    system_prompt: str | None = None,
    cache: bool = True,
    progress: Progress | None = None,
) -> ProbeResult:
    """Ask each selected item under each planned framing, grade, write the run folder."""
    t0 = time.perf_counter()
    n = resolve_limit(limit, model_spec, "reliability")
    bank, chosen = _select(items, categories, n, seed)
    out = Path(out_dir)
    config = _probe_config(
        "reliability", model_spec, chosen, coder=grader or RULES_GRADER, items=items,
        categories=categories, framings=framings, seed=seed, limit=n,
        max_connections=max_connections, temperature=temperature, max_tokens=max_tokens,
        cache=cache, system_prompt=system_prompt,
    )  # fmt: skip
    _prepare(out, config, ANSWERS_FILE)
    answers_path = out / ANSWERS_FILE
    kept = _resume_records(answers_path, GradedAnswer)
    done = {(a.item_id, a.framing) for a in kept}
    jobs = [
        (item, f)
        for item in chosen
        for f in plan_framings(item, mode=framings, seed=seed)
        if (item.id, f.id) not in done
    ]
    backend = make_backend(model_spec, bank, cache=cache, max_connections=max_connections)
    llm_grader = None
    if grader:
        llm_grader = LLMGrader(make_backend(grader, bank, cache=cache))
    sem = asyncio.Semaphore(max_connections)
    usage = Usage()
    new: list[GradedAnswer] = []
    head = [Message(role="system", content=system_prompt)] if system_prompt else []

    async def one(item: ProbeItem, f: Any, appender: JsonlAppender) -> None:
        nonlocal usage
        prompt = frame(item, f)
        stated = item.false_belief if f.states_belief else None
        async with sem:
            try:
                c = await backend.generate(
                    [*head, Message(role="user", content=prompt)],
                    max_tokens=max_tokens,
                    temperature=temperature,
                    seed=seed,
                )
            except BackendError as exc:
                graded = GradedAnswer(
                    item_id=item.id, framing=f.id, framing_kind=f.kind, prompt=prompt,
                    error=str(exc),
                )  # fmt: skip
            else:
                usage = usage + c.usage
                kw = dict(framing=f.id, framing_kind=f.kind, prompt=prompt)
                if llm_grader is not None:
                    graded = await llm_grader.grade(item, c.text, stated, **kw)
                else:
                    graded = grade_answer(item, c.text, stated, **kw)
        appender.append(graded)
        new.append(graded)
        if progress is not None:
            progress(len(done) + len(new), len(done) + len(jobs))

    try:
        with JsonlAppender(answers_path) as appender:
            await asyncio.gather(*(one(i, f, appender) for i, f in jobs))
    finally:
        await backend.aclose()
        if llm_grader is not None:
            await llm_grader.backend.aclose()
    answers = kept + new
    summary = summarise(answers, seed=seed)
    wall = time.perf_counter() - t0
    extra = {
        "answers": len(answers),
        "new": len(new),
        "calls": usage.calls,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "wall_s": round(wall, 2),
    }
    if llm_grader is not None:
        extra["grader_calls"] = llm_grader.usage.calls
        extra["grader_fallbacks"] = llm_grader.failures
    _write_summary(out, config, summary, extra)
    return ProbeResult(out, config, answers, summary, usage, wall, len(new))


def run_reliability(model_spec: str, **kwargs: Any) -> ProbeResult:
    """Sync wrapper of :func:`arun_reliability` (same arguments)."""
    return asyncio.run(arun_reliability(model_spec, **kwargs))


async def arun_truthfulness(
    model_spec: str,
    *,
    out_dir: str | Path,
    items: str | Path | None = None,
    categories: Sequence[str] | None = None,
    limit: Limit = None,
    seed: int = 0,
    framings: FramingMode = "kinds",
    max_connections: int = 4,
    cache: bool = True,
    progress: Progress | None = None,
) -> TruthResult:
    """Ask each proposition bare (belief) and under each framing (claim); write the run folder.

    Raises:
        ConfigError: the backend returns no log-probabilities (the message names those that do).
    """
    t0 = time.perf_counter()
    n = resolve_limit(limit, model_spec, "truthfulness")
    bank, chosen = _select(items, categories, n, seed)
    out = Path(out_dir)
    config = _probe_config(
        "truthfulness", model_spec, chosen, coder="none", items=items, categories=categories,
        framings=framings, seed=seed, limit=n, max_connections=max_connections,
        temperature=0.0, max_tokens=3, cache=cache,
    )  # fmt: skip
    _prepare(out, config, PROPOSITIONS_FILE)
    path = out / PROPOSITIONS_FILE
    kept = _resume_records(path, TruthRecord)
    done = {(r.item_id, r.candidate, r.framing) for r in kept}
    backend = make_backend(model_spec, bank, cache=cache, max_connections=max_connections)
    usage = Usage()
    count = 0

    try:
        with JsonlAppender(path) as appender:

            def on_record(rec: TruthRecord, u: Usage) -> None:
                nonlocal usage, count
                usage = usage + u
                count += 1
                appender.append(rec)
                if progress is not None:
                    progress(count, -1)

            new = await collect(
                backend,
                chosen,
                mode=framings,
                seed=seed,
                max_connections=max_connections,
                done=done,
                pool=bank,
                on_record=on_record,
            )
    finally:
        await backend.aclose()
    records = kept + new
    summary = summarise_truth(records, seed=seed)
    wall = time.perf_counter() - t0
    extra = {
        "records": len(records),
        "new": len(new),
        "calls": usage.calls,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "wall_s": round(wall, 2),
    }
    _write_summary(out, config, summary, extra)
    return TruthResult(out, config, records, summary, usage, wall, len(new))


def run_truthfulness(model_spec: str, **kwargs: Any) -> TruthResult:
    """Sync wrapper of :func:`arun_truthfulness` (same arguments)."""
    return asyncio.run(arun_truthfulness(model_spec, **kwargs))


def load_probe_run(out_dir: str | Path) -> tuple[RunConfig, list[GradedAnswer]]:
    """A reliability run folder's config and graded answers (torn lines skipped)."""
    d = Path(out_dir)
    cfg_path = d / CONFIG_FILE
    if not cfg_path.exists():
        raise ConfigError(f"{d}: no {CONFIG_FILE}; not a probe run folder")
    config = RunConfig.model_validate_json(cfg_path.read_text(encoding="utf-8"))
    answers = read_jsonl(d / ANSWERS_FILE, GradedAnswer, lenient=True).items
    return config, answers


from attunement.probes.frontier import FrontierPoint, frontier  # noqa: E402
from attunement.probes.gradefile import grade_file  # noqa: E402

__all__ = [
    "FrontierPoint",
    "ProbeResult",
    "TruthResult",
    "arun_reliability",
    "arun_truthfulness",
    "frontier",
    "grade_file",
    "load_probe_run",
    "run_reliability",
    "run_truthfulness",
]
