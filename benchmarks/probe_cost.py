"""What a probe costs: model calls, tokens and seconds per item, for each probe.

Runs the reliability and truthfulness probes on a model (default: the embedded 135M model, at
its default item limits) with the response cache off, into a temporary folder, and prints a
table. The "whole bank" column projects the time for every item of the shipped bank.

    .venv/bin/python benchmarks/probe_cost.py                       # embedded model, defaults
    .venv/bin/python benchmarks/probe_cost.py --limit 10 --probe reliability
    .venv/bin/python benchmarks/probe_cost.py --model scripted:key --limit all
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from attunement.probes.items import load_items
from attunement.probes.run import resolve_limit, run_reliability, run_truthfulness


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="local")
    parser.add_argument("--limit", default=None, help="items per probe: N or 'all'")
    parser.add_argument("--probe", choices=("reliability", "truthfulness", "both"), default="both")
    parser.add_argument("--max-connections", type=int, default=4)
    args = parser.parse_args()
    limit = None if args.limit is None else (args.limit if args.limit == "all" else int(args.limit))
    bank = len(load_items())
    probes = ("reliability", "truthfulness") if args.probe == "both" else (args.probe,)
    table = Table(title=f"probe cost: {args.model} ({platform.processor() or platform.machine()})")
    for col in ("probe", "items", "calls", "calls/item", "prompt tok", "completion tok",
                "tok/item", "seconds", "s/item", "s/call", "whole bank (min)"):  # fmt: skip
        table.add_column(col, justify="right")
    total = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for probe in probes:
            n_items = resolve_limit(limit, args.model, probe) or bank
            run = run_reliability if probe == "reliability" else run_truthfulness
            t0 = time.perf_counter()
            result = run(
                args.model,
                out_dir=Path(tmp) / probe,
                limit=limit,
                cache=False,
                max_connections=args.max_connections,
            )
            wall = time.perf_counter() - t0
            total += wall
            u = result.usage
            calls = max(u.calls, 1)
            table.add_row(
                probe,
                str(n_items),
                str(u.calls),
                f"{u.calls / n_items:.1f}",
                str(u.prompt_tokens),
                str(u.completion_tokens),
                f"{u.total_tokens / n_items:.0f}",
                f"{wall:.1f}",
                f"{wall / n_items:.2f}",
                f"{wall / calls:.3f}",
                f"{wall / n_items * bank / 60:.1f}",
            )
    console = Console(width=max(Console().width, 150))
    console.print(table)
    console.print(f"total: {total:.1f}s for {', '.join(probes)} (bank: {bank} items)")


if __name__ == "__main__":
    main()
