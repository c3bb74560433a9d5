"""Throughput of the local coder end to end through the CLI (`attune code`), on one core.

    .venv/bin/python benchmarks/coder_throughput.py [--utterances 20000] [--repeats 3]

Builds a conversation JSONL of N assistant utterances (the held-out texts, each after its user
turn, repeated to N; 4 exchanges per conversation), then times the whole command
``attune code IN --out OUT --quiet`` pinned to one core (``taskset -c 0`` when available),
minus the interpreter's own start-up (``python -c pass``), both as wall time and as CPU time
(user + system), since other work on a shared machine slows the wall clock but not the CPU
seconds the command needs. No cache of any kind: every
utterance is segmented, featurised and scored. Prints utterances/s (median of the repeats), and
the in-process figure (``LocalCoder.code_many``) for reference.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from attunement.coding.local import LocalCoder  # noqa: E402
from attunement.coding.train import heldout_records  # noqa: E402

PER_CONVERSATION = 4


def build_input(path: Path, n: int) -> int:
    records = heldout_records()
    lines, turns, k = [], [], 0
    while k < n:
        rec = records[k % len(records)]
        turns += [("user", rec["context"] or "hi"), ("assistant", rec["text"])]
        k += 1
        if len(turns) == 2 * PER_CONVERSATION or k == n:
            lines.append(
                json.dumps(
                    {
                        "id": f"bench-{len(lines)}",
                        "turns": [
                            {"index": i, "role": r, "content": c} for i, (r, c) in enumerate(turns)
                        ],
                    }
                )
            )
            turns = []
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return k


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system of the child) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--utterances", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        n = build_input(src, args.utterances)
        cli = [
            *pin,
            sys.executable,
            "-m",
            "attunement.cli.main",
            "code",
            str(src),
            "--out",
            str(out),
            "--quiet",
        ]
        starts = [timed([*pin, sys.executable, "-c", "pass"]) for _ in range(3)]
        startup = statistics.median(w for w, _ in starts)
        startup_cpu = statistics.median(c for _, c in starts)
        runs = [timed(cli) for _ in range(args.repeats)]
        coded = sum(1 for _ in out.open(encoding="utf-8"))
    wall = statistics.median(w for w, _ in runs)
    cpu = statistics.median(c for _, c in runs)
    load = os.getloadavg()[0]
    records = heldout_records()
    texts = [records[i % len(records)]["text"] for i in range(min(n, 5000))]
    contexts = [records[i % len(records)]["context"] for i in range(len(texts))]
    coder = LocalCoder()
    t0 = time.perf_counter()
    coder.code_many(texts, contexts)
    inproc = len(texts) / (time.perf_counter() - t0)
    sentences = sum(len(r["labels"]) for r in records) / len(records)
    print(f"{'measure':44s} {'value':>12s}")
    print(f"{'utterances coded (CLI output lines)':44s} {coded:12d}")
    print(f"{'mean sentences per utterance':44s} {sentences:12.2f}")
    print(f"{'CLI wall time, median of ' + str(args.repeats) + ' (s)':44s} {wall:12.2f}")
    print(f"{'interpreter start-up (s)':44s} {startup:12.2f}")
    print(f"{'CLI utterances/s (one core, minus start-up)':44s} {n / (wall - startup):12.0f}")
    print(f"{'CLI CPU time, median (s)':44s} {cpu:12.2f}")
    print(f"{'CLI utterances per CPU-second (one core)':44s} {n / (cpu - startup_cpu):12.0f}")
    print(f"{'in-process code_many utterances/s':44s} {inproc:12.0f}")
    print(
        f"pinned with taskset: {bool(pin)}; 1-min load average {load:.1f} on {os.cpu_count()} "
        f"CPUs; runs (wall s): {', '.join(f'{w:.2f}' for w, _ in runs)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
