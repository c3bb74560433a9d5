"""Throughput of the local coder end to end through the CLI (`attune code`), on one core.

    .venv/bin/python benchmarks/coder_throughput.py [--utterances 20000] [--repeats 3]
        [--data FILE ...] [--against REV] [--python PATH] [--pure-python]

Builds a conversation JSONL of N assistant utterances, then times the whole command
``attune code IN --out OUT --quiet`` pinned to one core (``taskset -c 0`` when available),
minus the interpreter's own start-up (``python -c pass``), both as wall time and as CPU time
(user + system), since other work on a shared machine slows the wall clock but not the CPU
seconds the command needs. Prints utterances/s (median of the repeats).

The texts: every labelled utterance of the project (train and held-out splits, each after its
user turn), as many distinct texts as the data holds, cycled to N (the table says how many
distinct texts and how often each repeats). No result of any kind is cached: every utterance
is segmented, featurised and scored every time. The one memo is per word (the character
n-gram ids of words the model has no row for, ``LinearModel.oov_char_ids``), so the
in-process figures are given for one cold pass over the distinct texts with a freshly loaded
model, for all of them and for the held-out ones alone (whose words the model saw least).

``--against REV`` compares with another revision side by side in the same run: it checks REV
out into a temporary git worktree and alternates the two CLIs run by run on the same input
(REV's code and weights through ``PYTHONPATH``), so load on a shared machine hits both alike;
it prints both medians and the median of the paired ratios (each run of this tree over the run
of REV just before it). ``--python PATH`` does the same for this tree's code under another
interpreter (one with the core dependencies installed, e.g. a Python 3.13 virtual
environment), each interpreter's own start-up subtracted from its runs. ``--pure-python`` does
the same for this tree with its compiled per-sentence path switched off (``ATTUNE_PURE_PYTHON=1``:
the Python reference, what an install without a C compiler runs).

Whether the compiled path is on in the plain runs is printed with the table.
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
from attunement.coding.fastpath import native_module  # noqa: E402
from attunement.coding.local import LinearModel, LocalCoder, weights_path  # noqa: E402
from attunement.coding.train import data_files, is_heldout, load_labelled  # noqa: E402

PER_CONVERSATION = 4


def all_records(names: list[str] | None = None) -> list[dict]:
    """Every labelled utterance (both splits) of the data files (all, or those named), in file
    order."""
    files = [p for p in data_files() if not names or p.name in names]
    return load_labelled(files).records


def build_input(path: Path, n: int, records: list[dict]) -> int:
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


def cold_pass(records: list[dict]) -> float:
    """Utterances/s of ``LocalCoder.code_many`` over the texts once, with a freshly loaded
    model (its per-word memo empty), on the core this process runs on."""
    coder = LocalCoder(LinearModel.load(weights_path()))
    t0 = time.process_time()
    coder.code_many([r["text"] for r in records], [r.get("context") for r in records])
    return len(records) / (time.process_time() - t0)


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system of the child) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def compiled_path() -> str:
    """Whether this tree's runs use the compiled per-sentence path."""
    on = native_module() is not None
    return "compiled per-sentence path: " + ("on" if on else "off (pure Python)")


def pinned() -> list[str]:
    """The command prefix that pins a run to one core (none where ``taskset`` is missing)."""
    return ["taskset", "-c", "0"] if shutil.which("taskset") else []


def code_command(pin: list[str], src: Path, out: Path, python: str = sys.executable) -> list[str]:
    """``attune code SRC --out OUT --quiet`` through an interpreter (this one), pinned."""
    return [*pin, python, "-m", "attunement.cli.main", "code", str(src), "--out",
            str(out), "--quiet"]  # fmt: skip


def startup_seconds(pin: list[str], python: str = sys.executable) -> tuple[float, float]:
    """The interpreter's own start-up (wall, CPU seconds; median of 3), subtracted from runs."""
    starts = [timed([*pin, python, "-c", "pass"]) for _ in range(3)]
    return statistics.median(w for w, _ in starts), statistics.median(c for _, c in starts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--utterances", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--data",
        nargs="*",
        metavar="FILE",
        help="only these labelled files (names in coding/data/), e.g. the first-round input: "
        "labelled_support.jsonl labelled_tasks.jsonl labelled_extra.jsonl",
    )
    ap.add_argument(
        "--against",
        metavar="REV",
        help="also time this git revision (e.g. HEAD~3 or a commit), alternating run by run",
    )
    ap.add_argument(
        "--python",
        metavar="PATH",
        help="also time this tree under this interpreter (with the core dependencies)",
    )
    ap.add_argument(
        "--pure-python",
        action="store_true",
        help="also time this tree with the compiled per-sentence path off (ATTUNE_PURE_PYTHON=1)",
    )
    args = ap.parse_args()
    if args.against or args.python or args.pure_python:
        return compare(args.utterances, args.repeats, args.data, rev=args.against,
                       python=args.python, pure=args.pure_python)  # fmt: skip
    records = all_records(args.data)
    pin = pinned()
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        n = build_input(src, args.utterances, records)
        one = Path(tmp) / "one.jsonl"
        build_input(one, 1, records)
        cli = code_command(pin, src, out)
        startup, startup_cpu = startup_seconds(pin)
        runs = [timed(cli) for _ in range(args.repeats)]
        coded = sum(1 for _ in out.open(encoding="utf-8"))
        # fixed cost of a run: imports, reading, loading the model, one utterance
        fixed = statistics.median(timed(code_command(pin, one, out))[1] for _ in range(3))
    wall = statistics.median(w for w, _ in runs)
    cpu = statistics.median(c for _, c in runs)
    load = os.getloadavg()[0]
    if pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})  # the in-process figures on the same one core
    held = [r for r in records if is_heldout(r["id"])]
    inproc = {name: cold_pass(recs) for name, recs in (("all", records), ("held-out", held))}
    sentences = sum(len(r["labels"]) for r in records) / len(records)
    print(f"{'measure':44s} {'value':>12s}")
    print(f"{'utterances coded (CLI output lines)':44s} {coded:12d}")
    print(f"{'distinct texts (all labelled utterances)':44s} {len(records):12d}")
    print(f"{'times each text occurs in the input':44s} {n / len(records):12.1f}")
    print(f"{'mean sentences per utterance':44s} {sentences:12.2f}")
    print(f"{'CLI wall time, median of ' + str(args.repeats) + ' (s)':44s} {wall:12.2f}")
    print(f"{'interpreter start-up (s)':44s} {startup:12.2f}")
    print(f"{'CLI utterances/s (one core, minus start-up)':44s} {n / (wall - startup):12.0f}")
    print(f"{'CLI CPU time, median (s)':44s} {cpu:12.2f}")
    print(f"{'CLI utterances per CPU-second (one core)':44s} {n / (cpu - startup_cpu):12.0f}")
    per_cpu_s = n * sentences / (cpu - startup_cpu)
    print(f"{'CLI sentences per CPU-second (one core)':44s} {per_cpu_s:12.0f}")
    print(f"{'fixed CPU cost of a run (1 utterance) (s)':44s} {fixed - startup_cpu:12.2f}")
    print(f"{'CLI utterances per CPU-second after it':44s} {n / (cpu - fixed):12.0f}")
    for name, recs in (("all", records), ("held-out", held)):
        label = f"in-process, one cold pass, {name} ({len(recs)})"
        print(f"{label:44s} {inproc[name]:12.0f}")
    print(
        f"pinned with taskset: {bool(pin)}; 1-min load average {load:.1f} on {os.cpu_count()} "
        f"CPUs; runs (wall s): {', '.join(f'{w:.2f}' for w, _ in runs)}; {compiled_path()}"
    )
    return 0


def compare(
    n_utterances: int,
    repeats: int,
    names: list[str] | None,
    *,
    rev: str | None = None,
    python: str | None = None,
    pure: bool = False,
) -> int:
    """Time this tree's CLI and that of ``rev`` (a temporary git worktree, removed afterwards)
    or of this tree under ``python``, alternately on one input (see the module docstring)."""
    repo = Path(__file__).resolve().parents[1]
    pin = pinned()
    here = {**os.environ, "PYTHONPATH": str(repo / "src")}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        git = ["git", "-C", str(repo)]
        # name -> (interpreter, environment); "this tree" last, so each pair is other, then it
        contenders: dict[str, tuple[str, dict[str, str]]] = {}
        if python:
            ask = [python, "-c", "import platform; print(platform.python_version())"]
            try:
                version = subprocess.run(ask, capture_output=True, text=True, check=True)
            except (OSError, subprocess.CalledProcessError) as exc:
                sys.exit(f"--python {python}: cannot run it ({exc})")
            contenders[f"python {version.stdout.strip()}"] = (python, here)
        if rev:
            add = [*git, "worktree", "add", "--detach", str(base), rev]
            added = subprocess.run(add, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   text=True)  # fmt: skip
            if added.returncode:
                lines = added.stderr.strip().splitlines() or ["git failed"]
                sys.exit(f"--against {rev}: cannot check it out ({lines[-1]})")
            contenders[rev] = (sys.executable, {**os.environ, "PYTHONPATH": str(base / "src")})
        if pure:
            contenders["pure Python"] = (sys.executable, {**here, "ATTUNE_PURE_PYTHON": "1"})
        contenders["this tree"] = (sys.executable, here)
        try:
            src, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
            n = build_input(src, n_utterances, all_records(names))
            startup = {name: startup_seconds(pin, exe)[0] for name, (exe, _) in contenders.items()}
            runs: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
            for _ in range(repeats):
                for name, (exe, env) in contenders.items():
                    runs[name].append(timed(code_command(pin, src, out, exe), env))
        finally:
            if rev:
                subprocess.run([*git, "worktree", "remove", "--force", str(base)], check=False,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    print(f"{n} utterances, {repeats} alternating runs each, pinned: {bool(pin)}, "
          f"1-min load {os.getloadavg()[0]:.1f}; this tree runs under Python "
          f"{sys.version.split()[0]}; {compiled_path()}")  # fmt: skip
    print(f"{'CLI utterances/s (one core, minus start-up)':44s} {'median':>8s} {'runs':>30s}")
    rates = {name: [n / (w - startup[name]) for w, _ in rs] for name, rs in runs.items()}
    for name, r in rates.items():
        label = f"  {name}"
        print(f"{label:44s} {statistics.median(r):8.0f} {', '.join(f'{x:.0f}' for x in r):>30s}")
    for name in list(rates)[:-1]:
        paired = [b / a for a, b in zip(rates[name], rates["this tree"], strict=True)]
        label = f"this tree / {name}, median of paired runs"
        print(f"{label:44s} {statistics.median(paired):8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
