"""Run an evaluation into a run folder: the public API behind `attune eval` and `attune demo`.

A run folder holds ``config.json`` (everything needed to rerun: specs, seeds, the scenario
bank hash, versions), ``conversations.jsonl`` (one dialogue per line, appended as each
finishes), ``summary.json`` (every metric with its confidence interval) and ``report.html``
(the self-contained page of :mod:`attunement.report`).

Example (a notebook; ``await arun_eval(...)`` inside a running event loop):
    >>> from attunement.types import RunConfig
    >>> result = run_eval(RunConfig(model="scripted:reflector"), "runs/x")  # doctest: +SKIP
    >>> result.summary["metrics"]["emotion"]["final_emotion"]["value"]      # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import json
import platform
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from attunement import __version__
from attunement.backends.base import ChatBackend
from attunement.coding.base import Coder
from attunement.errors import ConfigError, InputError
from attunement.jsonl import read_jsonl, validation_error
from attunement.metrics.summary import summarise
from attunement.simulate.base import SimulatedUser
from attunement.simulate.rollout import (
    RolloutSettings,
    load_finished,
    plan_dialogues,
    run_rollouts,
)
from attunement.types import Conversation, RunConfig, Scenario

CONFIG_FILE = "config.json"
CONVERSATIONS_FILE = "conversations.jsonl"
SUMMARY_FILE = "summary.json"
_VERSIONED = ("pydantic", "numpy", "openai", "llama-cpp-python")


@dataclass
class RunResult:
    """What a run produced: its folder, config, every conversation and the summary."""

    run_dir: Path
    config: RunConfig
    conversations: list[Conversation]
    summary: dict[str, Any]
    new: int = 0
    resumed: int = 0
    wall_s: float = 0.0
    errors: int = field(default=0)


def versions() -> dict[str, str]:
    """Versions that can change results: this package, Python, and the libraries in the loop."""
    out = {"attunement": __version__, "python": platform.python_version()}
    for pkg in _VERSIONED:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


def build_user(config: RunConfig) -> SimulatedUser:
    """``structural`` or an LLM user on the model spec ``config.user``."""
    if config.user == "structural":
        from attunement.simulate.structural import StructuralUser

        return StructuralUser()
    from attunement.backends import load_backend
    from attunement.simulate.llm_user import LLMUser

    backend = load_backend(
        config.user,
        cache=config.cache,
        max_connections=config.max_connections,
        timeout=config.turn_timeout,
    )
    temperature = float(config.extra.get("user_temperature", 0.7))
    return LLMUser(backend, temperature=temperature)


def build_coder(config: RunConfig) -> Coder:
    """The coder ``config.coder`` names (``local`` or a model spec for the LLM judge)."""
    from attunement.coding import load_coder

    return load_coder(config.coder)


def build_policy(config: RunConfig) -> ChatBackend:
    """The model under test."""
    from attunement.backends import load_backend

    return load_backend(
        config.model,
        cache=config.cache,
        max_connections=config.max_connections,
        timeout=config.turn_timeout,
    )


def select_scenarios(config: RunConfig) -> tuple[list[Scenario], str]:
    """The suite's scenarios (limit not applied) and their hash (which scenarios, verbatim)."""
    from attunement.scenarios import bank_hash, load_scenarios, select_suite

    selected = list(select_suite(load_scenarios(), config.suite))
    return selected, bank_hash(selected)


def read_config(run_dir: str | Path) -> RunConfig:
    """The RunConfig of a run folder; InputError naming the file and field if it is bad."""
    path = Path(run_dir) / CONFIG_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("not a run folder (no config.json)", path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg})", path=str(path), line=exc.lineno) from None
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(exc, path=str(path), line=None) from None


def _write_json(path: Path, payload: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


def _prepare_dir(out: Path, config: RunConfig, *, resume: bool) -> RunConfig:
    """Check the folder fits the request; return the config the run will use."""
    conv_path = out / CONVERSATIONS_FILE
    if resume:
        saved = read_config(out)
        if saved.config_hash() != config.config_hash():
            raise ConfigError(
                f"{out}: was run with a different configuration (model, user, coder, suite, "
                "seed, epochs or generation settings); resume it with its own config.json"
            )
        # limit and max_connections may change on resume; keep the rest as saved.
        return saved.model_copy(
            update={"limit": config.limit, "max_connections": config.max_connections}
        )
    if conv_path.exists() and conv_path.stat().st_size > 0:
        raise ConfigError(
            f"{out} already holds conversations; pass --resume {out} or choose another --out"
        )
    return config


async def arun_eval(
    config: RunConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    label: str | None = None,
) -> RunResult:
    """Evaluate ``config.model`` against the suite's simulated users; write the run folder.

    Args:
        config: what to run (models, suite, epochs, seed, timeouts).
        out_dir: the run folder (created if missing).
        resume: continue a run in ``out_dir``: finished dialogues are kept and skipped.
        progress: show a progress bar (only on a terminal).
        label: text beside the progress bar (default: the model spec).

    Raises:
        ConfigError, InputError, SpecError: before anything is written, on bad options.
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    scenarios, bank = select_scenarios(config)
    config = config.model_copy(update={"scenario_bank_hash": bank, "versions": versions()})
    if resume:
        config = _prepare_dir(out, config, resume=True)
    else:
        _prepare_dir(out, config, resume=False)
    policy = build_policy(config)
    user = build_user(config)
    coder = build_coder(config)
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / CONFIG_FILE, config.model_dump(mode="json"))

    conv_path = out / CONVERSATIONS_FILE
    specs = plan_dialogues(
        scenarios,
        epochs=config.epochs,
        seed=config.seed,
        limit=config.limit,
        max_turns=config.max_turns,
    )
    done = {c.id: c for c in load_finished(conv_path)} if resume else {}
    todo = [s for s in specs if s.id not in done]
    try:
        new = await run_rollouts(
            todo,
            policy=policy,
            user=user,
            coder=coder,
            settings=RolloutSettings.from_config(config),
            out_path=conv_path,
            progress=progress,
            label=label or config.model,
        )
    finally:
        await _close(policy, user, coder)
    by_id = done | {c.id: c for c in new}
    planned = [by_id[s.id] for s in specs if s.id in by_id]
    extra = [c for cid, c in done.items() if cid not in {s.id for s in specs}]
    conversations = planned + extra
    summary = _write_summary(out, config, conversations)
    _write_report(out, config, conversations, summary)
    return RunResult(
        run_dir=out,
        config=config,
        conversations=conversations,
        summary=summary,
        new=len(new),
        resumed=len(done),
        wall_s=time.perf_counter() - t0,
        errors=sum(1 for c in conversations if c.error is not None),
    )


async def _close(*parts: object) -> None:
    for part in parts:
        closer = getattr(part, "aclose", None)
        if closer is None:
            closer = getattr(getattr(part, "backend", None), "aclose", None)
        if closer is not None:
            await closer()


def run_eval(
    config: RunConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    label: str | None = None,
) -> RunResult:
    """Synchronous :func:`arun_eval` (for scripts and the CLI; use ``arun_eval`` in notebooks)."""
    return asyncio.run(arun_eval(config, out_dir, resume=resume, progress=progress, label=label))


def _write_summary(out: Path, config: RunConfig, conversations: list[Conversation]) -> dict:
    summary = {
        "schema_version": config.schema_version,
        "run": {
            "model": config.model,
            "user": config.user,
            "coder": config.coder,
            "suite": config.suite,
            "epochs": config.epochs,
            "seed": config.seed,
            "config_hash": config.config_hash(),
            "scenario_bank_hash": config.scenario_bank_hash,
            "dialogues": len(conversations),
            "errors": sum(1 for c in conversations if c.error is not None),
        },
        "metrics": summarise(conversations, seed=config.seed),
    }
    _write_json(out / SUMMARY_FILE, summary)
    return summary


def _write_report(
    out: Path, config: RunConfig, conversations: list[Conversation], summary: dict
) -> None:
    """``report.html`` from what is in memory (no re-read); see :mod:`attunement.report`."""
    from attunement.report import ReportData

    ReportData(out, config, conversations, summary).write()


def load_run(run_dir: str | Path) -> tuple[RunConfig, list[Conversation]]:
    """A run folder's config and conversations (read leniently: a torn line is skipped)."""
    config = read_config(run_dir)
    path = Path(run_dir) / CONVERSATIONS_FILE
    if not path.exists():
        return config, []
    return config, read_jsonl(path, Conversation, lenient=True).items


def summarise_run(run_dir: str | Path) -> dict[str, Any]:
    """Recompute ``summary.json`` of a run folder from its conversations; returns it."""
    config, conversations = load_run(run_dir)
    return _write_summary(Path(run_dir), config, conversations)
