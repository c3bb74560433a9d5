"""Read a run folder and write its ``report.html``: the I/O edge of the report.

The folder is read with the run's own loaders (``read_config``, ``read_jsonl``); lines of
``conversations.jsonl`` that cannot be read are skipped and listed in the report (a run killed
mid-write leaves a torn last line), or raise with ``strict=True``. ``summary.json`` is used as
written; when it is missing, unreadable or stale (it counts other dialogues than the file
holds), the figures are recomputed in memory and the report says so.

Example:
    >>> path = write_report("runs/reflector")  # doctest: +SKIP
    >>> path.name  # doctest: +SKIP
    'report.html'
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attunement.errors import InputError
from attunement.jsonl import read_jsonl
from attunement.report.html import render_report
from attunement.types import Conversation, RunConfig

REPORT_FILE = "report.html"


@dataclass
class ReportData:
    """Everything a report shows: the run's config, dialogues, summary, and input problems."""

    run_dir: Path
    config: RunConfig | None
    conversations: list[Conversation]
    summary: dict[str, Any]
    skipped: list[InputError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        """The page as a string."""
        return render_report(
            self.conversations,
            self.summary,
            self.config,
            skipped=self.skipped,
            notes=self.notes,
        )

    def write(self, out_path: str | Path | None = None) -> Path:
        """Write the page (default ``RUN_DIR/report.html``) atomically; returns its path."""
        path = Path(out_path) if out_path is not None else Path(self.run_dir) / REPORT_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(self.render())
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
        return path


def _summary(run_dir: Path, config: RunConfig, convs: list[Conversation], skipped: bool):
    """summary.json if it matches the conversations, else the figures recomputed (and why)."""
    from attunement.metrics.summary import summarise
    from attunement.simulate.run import SUMMARY_FILE

    path = run_dir / SUMMARY_FILE
    why = None
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        counted = saved.get("run", {}).get("dialogues") if isinstance(saved, dict) else None
        if not isinstance(saved, dict) or not isinstance(saved.get("metrics"), dict):
            why = f"{path} has no metrics"
        elif skipped or counted != len(convs):
            why = f"{path} counts {counted} dialogues, the file holds {len(convs)} readable ones"
        else:
            return saved, None
    except FileNotFoundError:
        why = f"{path} is missing"
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        why = f"{path} is not valid JSON ({exc})"
    return {"metrics": summarise(convs, seed=config.seed)}, f"{why}: figures recomputed"


def load_report_data(run_dir: str | Path, *, strict: bool = False) -> ReportData:
    """Read a run folder for a report.

    Args:
        run_dir: an ``attune eval`` run folder.
        strict: raise on the first unreadable line of ``conversations.jsonl`` instead of
            skipping it (skipped lines are listed in the report).

    Raises:
        InputError: a missing folder, a missing or bad ``config.json``, a missing
            ``conversations.jsonl``, or one with no readable line (names the file and line).
    """
    from attunement.simulate.run import CONVERSATIONS_FILE, read_config

    root = Path(run_dir)
    if not root.is_dir():
        raise InputError("no such run folder", path=str(root))
    config = read_config(root)
    if config.kind != "eval":
        raise InputError(
            f"a {config.kind} run folder; `attune report` reads `attune eval` runs",
            path=str(root / "config.json"),
        )
    conv_path = root / CONVERSATIONS_FILE
    loaded = read_jsonl(conv_path, Conversation, lenient=not strict)
    if loaded.skipped and not loaded.items:
        raise loaded.skipped[0]
    summary, note = _summary(root, config, loaded.items, bool(loaded.skipped))
    return ReportData(
        run_dir=root,
        config=config,
        conversations=loaded.items,
        summary=summary,
        skipped=loaded.skipped,
        notes=[note] if note else [],
    )


def write_report(
    run_dir: str | Path, out_path: str | Path | None = None, *, strict: bool = False
) -> Path:
    """Write the self-contained ``report.html`` of a run folder; returns its path.

    Args:
        run_dir: an ``attune eval`` run folder.
        out_path: where to write (default ``RUN_DIR/report.html``).
        strict: raise on an unreadable line instead of skipping and listing it.
    """
    return load_report_data(run_dir, strict=strict).write(out_path)
