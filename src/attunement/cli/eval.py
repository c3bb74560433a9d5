"""`attune eval` and `attune demo`: thin layers over :mod:`attunement.simulate.run`.

The summary table (:func:`summary_table`) is shared by both and by anything else that sets
runs side by side: one column per run, the rows of ``attunement.metrics.summary.HEADLINE``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from attunement.cli.common import cli_errors, console, err_console, run_async
from attunement.errors import ConfigError
from attunement.simulate.demo import DEMO_SIZE


def summary_table(summaries: Mapping[str, Mapping[str, Any]], *, title: str = "") -> Table:
    """A rich table: HEADLINE rows, one column per run (name -> summary.json dict)."""
    from attunement.metrics.summary import HEADLINE, headline

    table = Table(title=title or None, show_lines=False, header_style="bold")
    table.add_column("metric (95% CI)", style="cyan", no_wrap=True)
    columns = {name: dict(headline(s)) for name, s in summaries.items()}
    for name in columns:
        table.add_column(name, justify="right", no_wrap=True)
    for row in HEADLINE:
        table.add_row(row.label, *(columns[name][row.label] for name in columns))
    counts = []
    for s in summaries.values():
        run = s.get("run", {})
        counts.append(f"{run.get('dialogues', '?')} ({run.get('errors', 0)} failed)")
    table.add_row("dialogues", *counts, style="dim")
    return table


def gap_table(summary: Mapping[str, Any]) -> Table:
    """The grounding gap of one run: its per-turn rates beside the human reference figures."""
    from attunement.metrics.summary import lookup
    from attunement.stats import Estimate

    table = Table(title="grounding gap: per-turn rates vs human references", header_style="bold")
    for col, justify in (("measure", "left"), ("this run", "right"), ("reference", "left"),
                         ("ref.", "right"), ("run vs ref.", "right")):  # fmt: skip
        table.add_column(col, justify=justify, no_wrap=True)
    for row in lookup(summary.get("metrics", summary), ("grounding", "gap")) or []:
        rate = Estimate.model_validate(row["rate"]).fmt(2)
        refs = row["references"] or [None]
        for i, ref in enumerate(refs):
            first = (row["measure"], rate) if i == 0 else ("", "")
            if ref is None:
                table.add_row(*first, "-", "", "")
                continue
            vs = ref["vs_human"]
            published_gap = ref["kind"] == "llm_vs_human"
            value = (
                f"{ref['value']:+.1%}" if ref["kind"] == "llm_vs_human" else f"{ref['value']:.2f}"
            )
            table.add_row(
                *first,
                ref["population"] + (" (published gap)" if published_gap else ""),
                value,
                "" if vs is None else f"{vs:+.0%}",
            )
    return table


def print_table(table: Table) -> None:
    """Print a table unwrapped when stdout is not a terminal (a pipe or a log file)."""
    if console.is_terminal:
        console.print(table)
        return
    width = console.measure(table, options=console.options.update_width(1000)).maximum
    Console(file=console.file, width=width, no_color=console.no_color).print(table)


def _default_out(prefix: str) -> Path:
    return Path("runs") / f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}"


def eval_command(
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="Model under test: local, llamacpp:PATH, openai:MODEL[@URL], "
            "scripted:solver|reflector|asker.",
        ),
    ] = None,
    user: Annotated[str, typer.Option(help="Simulated user: structural, or a model spec.")] = (
        "structural"
    ),
    coder: Annotated[str, typer.Option(help="Act coder: local, or a model spec.")] = "local",
    suite: Annotated[str, typer.Option(help="Scenario suite, need, tag or ids.")] = "core",
    epochs: Annotated[int, typer.Option(min=1, help="Repeats, with different seeds.")] = 1,
    seed: Annotated[int, typer.Option(help="Run seed (dialogue seeds derive from it).")] = 0,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N scenarios.")] = None,
    max_turns: Annotated[
        int | None, typer.Option(min=1, help="Override each scenario's turn limit.")
    ] = None,
    max_connections: Annotated[int, typer.Option(min=1, help="Dialogues at once.")] = 4,
    max_tokens: Annotated[int, typer.Option(min=1, help="Max tokens per policy reply.")] = 256,
    temperature: Annotated[float, typer.Option(min=0.0, help="Policy temperature.")] = 0.7,
    turn_timeout: Annotated[
        float, typer.Option(help="Seconds per turn (policy reply, coding, user reaction).")
    ] = 120.0,
    dialogue_timeout: Annotated[float, typer.Option(help="Seconds per dialogue.")] = 900.0,
    cache: Annotated[bool, typer.Option("--cache/--no-cache", help="Response cache.")] = True,
    out: Annotated[Path | None, typer.Option(help="Run folder (default runs/eval-TIME).")] = None,
    resume: Annotated[
        Path | None, typer.Option(help="Continue the run in this folder, skipping finished.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Evaluate a model in closed-loop dialogues with simulated users; write a run folder."""
    _eval(**locals())


@cli_errors
def _eval(**opts: Any) -> None:
    from attunement.simulate.run import read_config, run_eval
    from attunement.types import RunConfig

    resume: Path | None = opts["resume"]
    if resume is not None:
        config = read_config(resume)
        if opts["model"] is not None and opts["model"] != config.model:
            raise ConfigError(
                f"{resume} evaluates {config.model!r}, not {opts['model']!r}; drop --model"
            )
        config = config.model_copy(
            update={"limit": opts["limit"] or config.limit,
                    "max_connections": opts["max_connections"]}
        )  # fmt: skip
        out_dir = resume
    else:
        if opts["model"] is None:
            raise ConfigError("--model is required (or --resume RUN_DIR)")
        config = _config(RunConfig, opts)
        out_dir = opts["out"] or _default_out("eval")
    result = run_eval(config, out_dir, resume=resume is not None, progress=not opts["quiet"])
    print_table(summary_table({config.model: result.summary}, title="attune eval"))
    print_table(gap_table(result.summary))
    done = f"{result.new} new, {result.resumed} resumed" if resume else f"{result.new} dialogues"
    console.print(f"{done}, {result.errors} failed, {result.wall_s:.1f}s. Run folder: {out_dir}")


def _config(run_config: type, opts: Mapping[str, Any]) -> Any:
    from pydantic import ValidationError

    from attunement.jsonl import validation_error

    fields = (
        "model", "user", "coder", "suite", "epochs", "seed", "limit", "max_turns",
        "max_connections", "max_tokens", "temperature", "turn_timeout", "dialogue_timeout",
        "cache",
    )  # fmt: skip
    try:
        return run_config(**{k: opts[k] for k in fields})
    except ValidationError as exc:
        err = validation_error(exc, path="options", line=None)
        raise ConfigError(f"--{(err.field or '').replace('_', '-')}: {err.reason}") from None


def demo_command(
    out: Annotated[Path | None, typer.Option(help="Demo folder (default runs/demo-TIME).")] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help=f"Scenarios (default {DEMO_SIZE}, across needs).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Run the embedded model and the scripted reference policies side by side (offline)."""
    _demo(out=out, limit=limit, quiet=quiet)


@cli_errors
def _demo(*, out: Path | None, limit: int | None, quiet: bool) -> None:
    from attunement.simulate.demo import DemoSettings, arun_demo

    out_dir = out or _default_out("demo")
    t0 = time.perf_counter()
    settings = DemoSettings(size=limit or DEMO_SIZE)
    err_console.print(
        f"[bold]attune demo[/]: {', '.join(settings.policies)} on {settings.size} core "
        "scenarios across the needs; structural user, local coder. The embedded 135M model "
        "is there to show the machinery, not as a subject of study."
    )
    results = run_async(arun_demo(out_dir, settings=settings, progress=not quiet))
    print_table(
        summary_table({spec: r.summary for spec, r in results.items()}, title="attune demo")
    )
    console.print(f"Done in {time.perf_counter() - t0:.0f}s. Run folders:")
    for spec, r in results.items():
        console.print(f"  {spec:<20} {r.run_dir}")


def register(app: typer.Typer) -> None:
    """Add `eval` and `demo` to the app."""
    app.command("eval")(eval_command)
    app.command("demo")(demo_command)
