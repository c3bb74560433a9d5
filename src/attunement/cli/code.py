"""`attune code`: code every turn of transcripts into attunement acts (one JSON line per turn).

A thin layer over :mod:`attunement.coding` (loaders, coders, ``code_transcripts``) and
:mod:`attunement.metrics.profile` (``--summary``).
"""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from attunement.cli.common import cli_errors, console, err_console, run_async
from attunement.errors import AttunementError, InputError


def _coder(spec: str, *, cache: bool, timeout: float, max_connections: int):
    from attunement.coding import load_coder

    return load_coder(spec, cache=cache, timeout=timeout, max_connections=max_connections)


def _write(out: Path, records: list) -> None:
    """Write the records (one JSON line each, as ``model_dump_json`` gives them, encoded once
    as UTF-8 bytes by the model's serializer), replacing OUT atomically."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    with tmp.open("wb") as fh:
        for r in records:
            fh.write(r.__pydantic_serializer__.to_json(r) + b"\n")
    tmp.replace(out)


def _summary_table(profile: Any, gold: Any | None) -> Table:
    table = Table(title="Behaviour profile (95% CI, clustered by dialogue)", show_lines=False)
    table.add_column("measure")
    table.add_column("value", justify="right")
    pct = lambda e: e.fmt(1, 100.0)  # noqa: E731
    table.add_row(
        "dialogues / coded turns / sentences",
        f"{profile.n_dialogues} / {profile.n_turns} / {profile.n_sentences}",
    )
    for group, est in profile.group_turn_rate.items():
        table.add_row(f"turns with {group} %", pct(est))
    for act, est in profile.act_turn_rate.items():
        if est.value:
            table.add_row(f"  turns with {act} %", pct(est))
    for kind, est in profile.grounding.per_turn.items():
        table.add_row(f"grounding: {kind} per turn %", pct(est))
    table.add_row("grounding acts per turn", profile.grounding.acts_per_turn.fmt(2))
    table.add_row("P(advise | feelings disclosed) %", pct(profile.p_advise_given_disclosure))
    table.add_row("P(advise | no disclosure) %", pct(profile.p_advise_given_no_disclosure))
    table.add_row("turns until first advise", profile.turns_to_first_advise.fmt(2))
    table.add_row("REFLECT/EXPLORE before first SOLVE %", pct(profile.understanding_before_solve))
    table.add_row("advice before understanding %", pct(profile.advice_before_understanding))
    if gold is not None and gold.n_turns:
        table.add_row(f"agreement with gold ({gold.scheme}) %", pct(gold.agreement))
    return table


def code_command(
    input: Annotated[
        Path, typer.Argument(help="Transcripts: JSONL, OpenAI JSONL, ESConv JSON, AnnoMI/BOLT CSV.")
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output JSONL, one line per coded turn.")
    ],
    format: Annotated[
        str, typer.Option("--format", "-f", help="auto|jsonl|esconv|annomi|bolt|openai")
    ] = "auto",
    coder: Annotated[
        str, typer.Option("--coder", help="'local' (default) or a model spec for the LLM judge.")
    ] = "local",
    roles: Annotated[
        str, typer.Option("--roles", help="Roles to code, comma separated (assistant, user, ...).")
    ] = "assistant",
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Skip bad lines/turns, code the rest, list them.")
    ] = False,
    summary: Annotated[
        bool, typer.Option("--summary", help="Print and write OUT.summary.json (profile, CIs).")
    ] = False,
    gold: Annotated[
        bool, typer.Option("--gold", help="Agreement with the source's human labels.")
    ] = False,
    max_connections: Annotated[
        int, typer.Option("--max-connections", help="Concurrent LLM calls.")
    ] = 4,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per LLM call.")] = 60.0,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not use the LLM response cache.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors.")] = False,
) -> None:
    """Code every turn of the chosen roles into attunement acts."""
    from attunement.coding.batch import paused_gc
    from attunement.coding.loaders import FORMATS, MAX_TURN_CHARS, read_transcripts
    from attunement.coding.transcripts import code_transcripts_async, parse_roles

    if format not in FORMATS:
        raise InputError(f"--format {format!r} is not one of {', '.join(FORMATS)}")
    role_set = parse_roles(roles)
    t0 = time.perf_counter()
    # The local coder is one bulk CPU job over many small acyclic objects: the cyclic garbage
    # collector is paused for the whole run (see paused_gc); an LLM judge runs with it on.
    with paused_gc(freeze=True) if coder.strip() == "local" else nullcontext():
        try:
            convs, chosen, skipped = read_transcripts(input, format, lenient=skip_bad)  # type: ignore[arg-type]
        except InputError as exc:
            hint = (
                ""
                if skip_bad or exc.line is None and exc.field is None
                else " (use --skip-bad to code the rest)"
            )
            raise InputError(str(exc) + hint) from None
        if not quiet:
            how = "detected" if format == "auto" else "given"
            err_console.print(
                f"format: {chosen} ({how}); {len(convs)} conversations", highlight=False
            )
        the_coder = _coder(
            coder, cache=not no_cache, timeout=timeout, max_connections=max_connections
        )
        records = run_async(
            code_transcripts_async(convs, the_coder, roles=role_set, concurrency=max_connections)
        )
        _write(out, records)
    elapsed = time.perf_counter() - t0
    truncated = [
        f"{c.id}, turn {t.index}: {t.metadata['truncated_from']} characters, coded the first "
        f"{MAX_TURN_CHARS}"
        for c in convs
        for t in c.turns
        if "truncated_from" in t.metadata
    ]
    failed = sum(1 for r in records if r.error)
    for line in truncated:
        err_console.print(f"[yellow]warning:[/] truncated {line}", highlight=False)
    if skipped:
        err_console.print(f"[yellow]skipped {len(skipped)} bad input(s):[/]", highlight=False)
        for err in skipped:
            err_console.print(f"  {err}", highlight=False, soft_wrap=True)
    if not quiet:
        err_console.print(
            f"coded {len(records)} turns ({failed} failed) with {the_coder.name} in "
            f"{elapsed:.2f}s -> {out}",
            highlight=False,
        )
    if summary or gold:
        _summarise(
            convs,
            out,
            summary=summary,
            gold=gold,
            quiet=quiet,
            extra={
                "input": str(input),
                "format": chosen,
                "coder": the_coder.name,
                "turns_coded": len(records),
                "turns_failed": failed,
                "skipped": [str(e) for e in skipped],
            },
        )
    if records and failed == len(records):
        raise AttunementError(f"every turn failed to code; first error: {records[0].error}")


def _summarise(convs, out: Path, *, summary: bool, gold: bool, quiet: bool, extra: dict) -> None:
    from attunement.coding.gold import gold_agreement
    from attunement.metrics.profile import behaviour_profile

    profile = behaviour_profile(convs)
    agreement = gold_agreement(convs) if gold else None
    payload = {**extra, "profile": profile.model_dump(mode="json")}
    if agreement is not None:
        payload["gold"] = agreement.model_dump(mode="json")
    path = out.with_name(out.name.removesuffix(".jsonl") + ".summary.json")
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    if not quiet:
        console.print(_summary_table(profile, agreement))
        if agreement is not None and agreement.per_label:
            t = Table(title=f"Agreement with human labels ({agreement.scheme})")
            t.add_column("gold label")
            t.add_column("coder agrees %", justify="right")
            t.add_column("n", justify="right")
            for label, est in agreement.per_label.items():
                t.add_row(label, est.fmt(1, 100.0), str(est.n))
            console.print(t)
        err_console.print(f"summary -> {path}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add `attune code` to the app."""
    app.command("code", help="Code transcripts into attunement acts (JSONL out).")(
        cli_errors(code_command)
    )
