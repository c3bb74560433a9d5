"""Check the coder's labelled data files: format, acts, substrings in order, full coverage.

    python scripts/check_labelled.py src/attunement/coding/data/labelled_*.jsonl

Prints one line per problem (file:line: why) and the act counts; exits 1 on any problem.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from attunement.coding.taxonomy import ACTS  # noqa: E402
from attunement.coding.train import data_files  # noqa: E402

SOURCES = {"emotional_support", "counselling", "everyday_task", "ambiguous_request"}
REGISTERS = {"terse", "chatty", "typos", "formatted", "plain", "spoken"}
_WORD = re.compile(r"[A-Za-z0-9]")


def check_line(obj: dict) -> list[str]:
    problems = []
    for key in ("id", "source", "register", "context", "text", "labels"):
        if key not in obj:
            problems.append(f"missing field '{key}'")
    if problems:
        return problems
    if obj["source"] not in SOURCES:
        problems.append(f"source {obj['source']!r} not in {sorted(SOURCES)}")
    if obj["register"] not in REGISTERS:
        problems.append(f"register {obj['register']!r} not in {sorted(REGISTERS)}")
    text, pos, covered = obj["text"], 0, []
    for i, pair in enumerate(obj["labels"]):
        if not (isinstance(pair, list) and len(pair) == 2):
            problems.append(f"labels[{i}] is not [sentence, act]")
            continue
        sent, act = pair
        if act not in ACTS:
            problems.append(f"labels[{i}] act {act!r} is not an act")
        at = text.find(sent, pos)
        if not sent.strip() or at < 0:
            problems.append(
                f"labels[{i}] {sent[:40]!r} is not a substring of text after the previous one"
            )
            continue
        covered.append((at, at + len(sent)))
        pos = at + len(sent)
    # every letter/digit of the text must be inside some labelled sentence
    mask = [False] * len(text)
    for a, b in covered:
        for j in range(a, b):
            mask[j] = True
    left = "".join(ch for j, ch in enumerate(text) if not mask[j])
    if _WORD.search(left):
        problems.append(f"text not covered by labels: {left.strip()[:60]!r}")
    return problems


def main(paths: list[str]) -> int:
    bad, acts, ids = 0, Counter(), Counter()
    n_utt = 0
    for path in paths:
        for lineno, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                print(f"{path}:{lineno}: not JSON ({exc.msg})")
                bad += 1
                continue
            probs = check_line(obj)
            for p in probs:
                print(f"{path}:{lineno}: {p}")
            bad += bool(probs)
            if not probs:
                n_utt += 1
                ids[obj["id"]] += 1
                acts.update(act for _, act in obj["labels"])
    dup = [i for i, c in ids.items() if c > 1]
    if dup:
        print(f"duplicate ids: {dup[:10]}")
        bad += 1
    # ids must be unique across every data file, not only the ones checked
    checked = {Path(p).resolve() for p in paths}
    for other in data_files():
        if other.resolve() in checked:
            continue
        for line in other.read_text(encoding="utf-8").splitlines():
            try:  # another writer's file may be half-written: its own check reports that
                uid = json.loads(line).get("id") if line.strip() else None
            except json.JSONDecodeError:
                continue
            if uid in ids:
                print(f"id {uid!r} is also used in {other.name}")
                bad += 1
                break
    print(f"{n_utt} utterances, {sum(acts.values())} sentences, {bad} bad lines")
    for act in ACTS:
        print(f"  {act:16s} {acts[act]}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
