"""How far do careful annotators agree on the acts? The ceiling the coder is measured against.

    .venv/bin/python benchmarks/label_agreement.py

Two annotators labelled the same 722 training sentences (203 utterances drawn at random from
the training split) blind, from docs/labelling.md alone, without seeing the data's labels or
any model output: ``benchmarks/data/agreement/annotator_{a,b}.jsonl`` (key = utterance id and
sentence index). This prints, per act, the F1 of each annotator against the data's labels and
of the annotators against each other, with accuracy, Cohen's kappa and macro-F1 (95% CI
clustered by utterance). Per-act F1 between two people is the most a coder can be expected to
reach against either of them, so it is the yardstick for the coder's per-act held-out F1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from attunement.coding.taxonomy import ACTS  # noqa: E402
from attunement.coding.train import act_metrics, data_files, load_labelled  # noqa: E402
from attunement.stats import bootstrap_stat, cohen_kappa  # noqa: E402

AGREEMENT_DIR = ROOT / "benchmarks" / "data" / "agreement"


def read_annotator(path: Path) -> dict[str, tuple[str, str]]:
    """key -> (sentence, act)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return {r["key"]: (r["sentence"], r["act"]) for r in rows}


def data_labels() -> dict[str, tuple[str, str]]:
    """key (``id#index``) -> (sentence, act) from the labelled data files."""
    out = {}
    for rec in load_labelled(data_files()).records:
        for i, (sent, act) in enumerate(rec["labels"]):
            out[f"{rec['id']}#{i}"] = (sent, act)
    return out


def compare(ref: list[str], other: list[str], clusters: list[str]) -> dict:
    m = act_metrics(ref, other)
    r, o = np.array(ref), np.array(other)
    ci = bootstrap_stat(lambda idx: act_metrics(list(r[idx]), list(o[idx]))["macro_f1"], clusters)
    return {**m, "kappa": cohen_kappa(ref, other), "macro_ci": ci}


def main() -> int:
    a = read_annotator(AGREEMENT_DIR / "annotator_a.jsonl")
    b = read_annotator(AGREEMENT_DIR / "annotator_b.jsonl")
    data = data_labels()
    keys = [k for k in a if k in b and k in data and a[k][0] == data[k][0] == b[k][0]]
    if len(keys) < len(a):
        print(f"note: {len(a) - len(keys)} sentences no longer match the data and are skipped")
    clusters = [k.split("#")[0] for k in keys]
    la, lb, ld = ([src[k][1] for k in keys] for src in (a, b, data))
    pairs = {
        "A vs data": compare(ld, la, clusters),
        "B vs data": compare(ld, lb, clusters),
        "A vs B": compare(la, lb, clusters),
    }
    print(f"{len(keys)} sentences, {len(set(clusters))} utterances\n")
    print(f"{'act':16s} {'n(data)':>8s}" + "".join(f" {name:>10s}" for name in pairs))
    for act in ACTS:
        n = sum(x == act for x in ld)
        f1s = [m["per_act"].get(act, {}).get("f1", 0.0) for m in pairs.values()]
        cells = "".join(f" {f:10.3f}" for f in f1s)
        print(f"{act:16s} {n:8d}{cells}")
    print()
    for name, m in pairs.items():
        print(
            f"{name:10s} accuracy {m['accuracy']:.3f}  kappa {m['kappa']:.3f}  "
            f"macro-F1 {m['macro_ci'].fmt(3)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
