"""`attune report RUN_DIR`: a thin layer over :func:`attunement.report.load_report_data`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from attunement.cli.common import cli_errors, console, err_console


def report_command(
    run_dir: Annotated[Path, typer.Argument(help="An `attune eval` run folder.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Where to write (default RUN_DIR/report.html)."),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail on an unreadable line instead of skipping it.")
    ] = False,
) -> None:
    """Write the self-contained HTML report of a run folder and print its path."""
    _report(run_dir=run_dir, out=out, strict=strict)


@cli_errors
def _report(*, run_dir: Path, out: Path | None, strict: bool) -> None:
    from attunement.report import load_report_data

    data = load_report_data(run_dir, strict=strict)
    for err in data.skipped:
        err_console.print(f"[yellow]skipped[/] {err}", highlight=False, soft_wrap=True)
    for note in data.notes:
        err_console.print(f"[yellow]note[/] {note}", highlight=False, soft_wrap=True)
    path = data.write(out)
    console.print(str(path), highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add `report` to the app."""
    app.command("report")(report_command)
