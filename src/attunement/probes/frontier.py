"""The attunement-reliability frontier: does a model buy emotional outcomes with accuracy?

Each model is a point: its final emotion in closed-loop evaluation (from an eval run folder)
against its accuracy drop under emotional framing (from a reliability probe run folder), both
with CIs. Runs are paired by the model spec in their ``config.json``. The warmth-reliability
study found warmer fine-tunes moving right (more drop); the point of attunement is to move up
without moving right.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from attunement.errors import ConfigError, InputError, MissingDependencyError
from attunement.stats import Estimate

EMOTION_KEYS = ("final_emotion", "emotion_final")


class FrontierPoint(BaseModel):
    """One model on the frontier."""

    model: str
    final_emotion: Estimate
    accuracy_drop: Estimate
    probe_dir: str
    eval_dir: str


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ConfigError(f"{path.parent}: no {path.name}; not a finished run folder")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid JSON ({exc})", path=str(path)) from None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object", path=str(path))
    return data


def run_model(run_dir: str | Path) -> str:
    """The model spec of a run folder (``config.json``, else ``summary.json``'s run block)."""
    d = Path(run_dir)
    if (d / "config.json").exists():
        model = _read_json(d / "config.json").get("model")
        if isinstance(model, str) and model:
            return model
    model = (_read_json(d / "summary.json").get("run") or {}).get("model")
    if not isinstance(model, str) or not model:
        raise InputError("no model named in config.json or summary.json", path=str(d))
    return model


def _as_estimate(obj: Any) -> Estimate | None:
    if isinstance(obj, dict) and "value" in obj:
        try:
            return Estimate.model_validate(obj)
        except ValidationError:
            return None
    return None


def _search(obj: Any, keys: Sequence[str]) -> Estimate | None:
    """The first Estimate found under one of ``keys``, breadth-first."""
    queue = [obj]
    while queue:
        node = queue.pop(0)
        if isinstance(node, dict):
            for k in keys:
                est = _as_estimate(node.get(k))
                if est is not None:
                    return est
            queue.extend(v for v in node.values() if isinstance(v, dict))
    return None


def eval_final_emotion(run_dir: str | Path) -> Estimate:
    """Mean final emotion of an eval run (read defensively from its ``summary.json``)."""
    path = Path(run_dir) / "summary.json"
    summary = _read_json(path)
    metrics = summary.get("metrics", summary)
    est = _as_estimate((metrics.get("emotion") or {}).get("final_emotion"))
    est = est or _search(metrics, EMOTION_KEYS)
    if est is None:
        raise InputError("no final emotion estimate found", path=str(path))
    return est


def probe_drop(run_dir: str | Path, *, kind: str = "context") -> Estimate:
    """Accuracy drop from neutral under ``kind`` framing, from a reliability probe's summary."""
    path = Path(run_dir) / "summary.json"
    summary = _read_json(path)
    if (summary.get("run") or {}).get("probe") not in (None, "reliability"):
        raise InputError("not a reliability probe run", path=str(path))
    est = _as_estimate(((summary.get("metrics") or {}).get("drop") or {}).get(kind))
    if est is None:
        raise InputError(f"no accuracy drop for {kind!r} framing", path=str(path))
    return est


def frontier(
    probe_dirs: Sequence[str | Path],
    eval_dirs: Sequence[str | Path],
    png_path: str | Path | None = None,
    *,
    kind: str = "context",
) -> list[FrontierPoint]:
    """Pair probe and eval runs by model and return (and optionally plot) the frontier.

    Raises:
        ConfigError: when no model has both a probe run and an eval run.
    """
    evals = {run_model(d): Path(d) for d in eval_dirs}
    points = []
    for d in probe_dirs:
        model = run_model(d)
        if model not in evals:
            continue
        points.append(
            FrontierPoint(
                model=model,
                final_emotion=eval_final_emotion(evals[model]),
                accuracy_drop=probe_drop(d, kind=kind),
                probe_dir=str(d),
                eval_dir=str(evals[model]),
            )
        )
    if not points:
        probes = sorted({run_model(d) for d in probe_dirs})
        raise ConfigError(
            f"no model has both a probe run and an eval run (probe runs: {', '.join(probes)}; "
            f"eval runs: {', '.join(sorted(evals)) or 'none'})"
        )
    if png_path is not None:
        plot_frontier(points, png_path)
    return points


def plot_frontier(points: Sequence[FrontierPoint], png_path: str | Path) -> Path:
    """A PNG: accuracy drop (x, percentage points) against final emotion (y), with CIs."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise MissingDependencyError("matplotlib", "plot") from exc
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=120)
    for p in points:
        x = (p.accuracy_drop.value or 0.0) * 100
        y = p.final_emotion.value or 0.0
        xe = [
            [x - (p.accuracy_drop.low or 0) * 100 if p.accuracy_drop.low is not None else 0],
            [(p.accuracy_drop.high or 0) * 100 - x if p.accuracy_drop.high is not None else 0],
        ]
        ye = [[y - p.final_emotion.low if p.final_emotion.low is not None else 0],
              [p.final_emotion.high - y if p.final_emotion.high is not None else 0]]  # fmt: skip
        ax.errorbar([x], [y], xerr=xe, yerr=ye, fmt="o", capsize=3)
        ax.annotate(p.model, (x, y), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.axvline(0, color="grey", lw=0.8, ls="--")
    ax.set_ylim(0, 100)  # the emotion scale, so plots of different runs compare
    ax.set_xlabel("accuracy drop under emotional framing (pp; right = less reliable)")
    ax.set_ylabel("final emotion (0-100; up = better attuned)")
    ax.set_title("Attunement-reliability frontier")
    fig.tight_layout()
    out = Path(png_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
