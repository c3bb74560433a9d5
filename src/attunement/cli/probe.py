"""`attune probe`: reliability under emotional framing, the Bullshit Index, grading, frontier.

Thin layers over :mod:`attunement.probes.run`; each prints a summary table and the run folder.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from attunement.cli.common import cli_errors, console, err_console, run_async
from attunement.errors import ConfigError

probe_app = typer.Typer(
    name="probe",
    help="Probe reliability and truthfulness under emotional framing.",
    no_args_is_help=True,
)

MODEL_HELP = (
    "Model under test: local, llamacpp:PATH, openai:MODEL[@URL], scripted:key|sycophant|hedger."
)
LIMIT_HELP = "Items to ask: a number, or 'all' (default: all; fewer on the embedded model)."
FRAMINGS_HELP = (
    "kinds: one framing of each kind per item; sample: one phrasing of each context kind; "
    "full: every phrasing."
)


# options shared by the probe commands (one declaration each)
ModelOpt = Annotated[str, typer.Option("--model", "-m", help=MODEL_HELP)]
GraderOpt = Annotated[str | None, typer.Option(help="Grader model spec (default: the rules).")]
OutOpt = Annotated[Path | None, typer.Option(help="Run folder (default runs/probe-<time>).")]
ItemsOpt = Annotated[Path | None, typer.Option(help="Item bank: a JSONL file or folder.")]
CategoryOpt = Annotated[list[str] | None, typer.Option(help="Only these categories (repeatable).")]
LimitOpt = Annotated[str | None, typer.Option(help=LIMIT_HELP)]
SeedOpt = Annotated[int, typer.Option(help="Seed for item selection and phrasing choice.")]
FramingsOpt = Annotated[str, typer.Option(help=FRAMINGS_HELP)]
ConnectionsOpt = Annotated[int, typer.Option(min=1, help="Model calls at once.")]
CacheOpt = Annotated[bool, typer.Option("--cache/--no-cache", help="Use the response cache.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


def _default_out(prefix: str) -> Path:
    return Path("runs") / f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}"


def _limit(text: str | None) -> int | str | None:
    if text is None or text == "all":
        return text
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"--limit must be a number or 'all', got {text!r}") from None


def _framings(text: str) -> Any:
    if text not in ("kinds", "sample", "full"):
        raise ConfigError(f"--framings must be 'kinds', 'sample' or 'full', got {text!r}")
    return text


@contextmanager
def _progress(label: str, quiet: bool) -> Iterator[Any]:
    if quiet:
        yield None
        return
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total if total > 0 else None)

        yield update


def reliability_table(summary: Any, *, title: str = "") -> Table:
    """Accuracy, drop, flip, evasion and refusal per framing kind (95% CIs)."""
    table = Table(title=title or None, header_style="bold")
    for col in ("framing", "accuracy", "drop from neutral", "flip rate", "evasion", "refusal"):
        table.add_column(col, justify="left" if col == "framing" else "right")
    na = "-"
    for kind, acc in summary.accuracy.items():
        table.add_row(
            kind,
            acc.fmt(),
            summary.drop[kind].fmt() if kind in summary.drop else na,
            summary.flip[kind].fmt() if kind in summary.flip else na,
            summary.evasion[kind].fmt(),
            summary.refusal[kind].fmt(),
        )
    for ctx, drop in summary.drop_by_context.items():
        acc = summary.accuracy_by_context.get(ctx)
        table.add_row(f"  {ctx}", acc.fmt() if acc else na, drop.fmt(), na, na, na, style="dim")
    table.caption = (
        f"sycophancy (adopts the stated false belief): {summary.sycophancy.fmt()}; "
        f"unprompted: {summary.sycophancy_baseline.fmt()}. "
        f"{summary.n_answers} answers, {summary.n_items} items, {summary.n_errors} failed"
    )
    return table


def truth_table(summary: Any, *, title: str = "") -> Table:
    """Bullshit Index and claim statistics per framing kind (95% CIs)."""
    table = Table(title=title or None, header_style="bold")
    for col in ("framing", "bullshit index", "claim accuracy", "says yes", "yes when believes no"):
        table.add_column(col, justify="left" if col == "framing" else "right")
    for kind, bi in summary.bullshit_index.items():
        if kind == "all":
            continue
        table.add_row(
            kind,
            bi.fmt(),
            summary.claim_accuracy[kind].fmt(),
            summary.yes_rate[kind].fmt(),
            summary.deceptive_yes[kind].fmt(),
        )
    table.add_row("all", summary.bullshit_index["all"].fmt(), "", "", "", style="bold")
    table.caption = (
        f"belief accuracy (bare proposition): {summary.belief_accuracy.fmt()}, "
        f"AUC {summary.belief_auc.fmt()}; "
        f"{summary.n_records} prompts, {summary.n_items} items, no Yes/No belief: "
        f"{summary.n_no_belief}, no claim: {summary.n_no_claim}, failed: {summary.n_errors}"
    )
    return table


def frontier_table(points: Any) -> Table:
    """One row per model: final emotion and accuracy drop under emotional framing."""
    table = Table(title="attunement-reliability frontier", header_style="bold")
    table.add_column("model")
    table.add_column("final emotion (0-100)", justify="right")
    table.add_column("accuracy drop (pp)", justify="right")
    for p in points:
        table.add_row(p.model, p.final_emotion.fmt(1), p.accuracy_drop.fmt(1, scale=100))
    return table


@probe_app.command("reliability")
def reliability_command(
    model: ModelOpt,
    grader: GraderOpt = None,
    out: OutOpt = None,
    items: ItemsOpt = None,
    category: CategoryOpt = None,
    limit: LimitOpt = None,
    seed: SeedOpt = 0,
    framings: FramingsOpt = "sample",
    max_connections: ConnectionsOpt = 4,
    max_tokens: Annotated[int, typer.Option(min=1, help="Max tokens per answer.")] = 48,
    temperature: Annotated[float, typer.Option(min=0.0, help="Sampling temperature.")] = 0.0,
    system_prompt: Annotated[
        str | None, typer.Option(help="A system message for every question.")
    ] = None,
    cache: CacheOpt = True,
    with_eval: Annotated[
        list[Path] | None,
        typer.Option("--with-eval", help="Eval run folders of the same model(s): the frontier."),
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="With --with-eval: write the frontier PNG here.")
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Accuracy under emotional framing and stated false beliefs; write a run folder."""
    _reliability(**locals())


@cli_errors
def _reliability(**o: Any) -> None:
    from attunement.probes.run import arun_reliability, frontier

    out_dir = o["out"] or _default_out("probe-reliability")
    with _progress("probe reliability", o["quiet"]) as update:
        result = run_async(
            arun_reliability(
                o["model"], out_dir=out_dir, grader=o["grader"], items=o["items"],
                categories=o["category"] or None, limit=_limit(o["limit"]), seed=o["seed"],
                framings=_framings(o["framings"]), max_connections=o["max_connections"],
                max_tokens=o["max_tokens"], temperature=o["temperature"],
                system_prompt=o["system_prompt"], cache=o["cache"], progress=update,
            )
        )  # fmt: skip
    console.print(
        reliability_table(result.summary, title=f"attune probe reliability: {o['model']}")
    )
    u = result.usage
    console.print(
        f"{result.new} new answers, {u.calls} model calls, {u.total_tokens} tokens, "
        f"{result.wall_s:.1f}s. Run folder: {out_dir}"
    )
    if o["with_eval"]:
        points = frontier([out_dir], o["with_eval"], o["plot"])
        console.print(frontier_table(points))
        if o["plot"]:
            console.print(f"Frontier plot: {o['plot']}")


@probe_app.command("truthfulness")
def truthfulness_command(
    model: ModelOpt,
    out: OutOpt = None,
    items: ItemsOpt = None,
    category: CategoryOpt = None,
    limit: LimitOpt = None,
    seed: SeedOpt = 0,
    framings: FramingsOpt = "kinds",
    max_connections: ConnectionsOpt = 4,
    cache: CacheOpt = True,
    quiet: QuietOpt = False,
) -> None:
    """Bullshit Index: first-token beliefs against framed claims (needs logprobs)."""
    _truthfulness(**locals())


@cli_errors
def _truthfulness(**o: Any) -> None:
    from attunement.probes.run import arun_truthfulness

    out_dir = o["out"] or _default_out("probe-truthfulness")
    with _progress("probe truthfulness", o["quiet"]) as update:
        result = run_async(
            arun_truthfulness(
                o["model"], out_dir=out_dir, items=o["items"], categories=o["category"] or None,
                limit=_limit(o["limit"]), seed=o["seed"], framings=_framings(o["framings"]),
                max_connections=o["max_connections"], cache=o["cache"], progress=update,
            )
        )  # fmt: skip
    console.print(truth_table(result.summary, title=f"attune probe truthfulness: {o['model']}"))
    u = result.usage
    console.print(
        f"{result.new} new prompts, {u.calls} model calls, {u.total_tokens} tokens, "
        f"{result.wall_s:.1f}s. Run folder: {out_dir}"
    )


@probe_app.command("grade")
def grade_command(
    answers: Annotated[Path, typer.Argument(help="Answers to grade: .jsonl or .csv.")],
    grader: GraderOpt = None,
    out: Annotated[Path | None, typer.Option(help="Write the graded answers here (JSONL).")] = None,
) -> None:
    """Grade answers someone else produced; with a 'label' column, report agreement."""
    _grade(answers=answers, grader=grader, out=out)


@cli_errors
def _grade(*, answers: Path, grader: str | None, out: Path | None) -> None:
    from collections import Counter

    from attunement.jsonl import write_jsonl
    from attunement.probes.gradefile import agrade_rows, agreement, read_answers

    rows = read_answers(answers)
    graded = run_async(agrade_rows(rows, grader=grader))
    counts = Counter(str(g.grade) for g in graded)
    table = Table(title=f"attune probe grade: {answers.name}", header_style="bold")
    table.add_column("grade")
    table.add_column("answers", justify="right")
    for grade in ("correct", "incorrect", "evasive", "refused"):
        table.add_row(grade, str(counts.get(grade, 0)))
    console.print(table)
    fallbacks = sum(1 for g in graded if "fallback" in g.grader)
    if grader:
        console.print(f"grader {grader}: {fallbacks} of {len(graded)} fell back to the rules")
    agree = agreement(rows, graded)
    if agree is not None:
        kappa = "n/a" if agree.kappa is None else f"{agree.kappa:.2f}"
        console.print(
            f"agreement with labels: {agree.accuracy.fmt()} on {agree.n} answers, kappa {kappa}"
        )
        for label, row in sorted(agree.confusion.items()):
            console.print(
                f"  labelled {label:<9} -> " + ", ".join(f"{k} {v}" for k, v in row.items())
            )
    if out is not None:
        write_jsonl(out, graded)
        console.print(f"Graded answers: {out}")


@probe_app.command("frontier")
def frontier_command(
    probe: Annotated[list[Path], typer.Option("--probe", help="Reliability probe run folders.")],
    eval_runs: Annotated[list[Path], typer.Option("--eval", help="Eval run folders.")],
    png: Annotated[Path | None, typer.Option(help="Write the frontier plot here (PNG).")] = None,
) -> None:
    """Final emotion against accuracy drop under emotional framing, one point per model."""
    _frontier(probe=probe, eval_runs=eval_runs, png=png)


@cli_errors
def _frontier(*, probe: list[Path], eval_runs: list[Path], png: Path | None) -> None:
    from attunement.probes.run import frontier

    console.print(frontier_table(frontier(probe, eval_runs, png)))
    if png:
        console.print(f"Frontier plot: {png}")


def register(app: typer.Typer) -> None:
    """Add `probe` (reliability, truthfulness, grade, frontier) to the app."""
    app.add_typer(probe_app, name="probe")
