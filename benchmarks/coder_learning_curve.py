"""Does more labelled data still help the local coder? Cross-validated on the training split.

    .venv/bin/python benchmarks/coder_learning_curve.py [--fractions 0.25 0.5 0.75 1]

For each fraction, 5-fold cross-validation grouped by utterance (the folds of
``attunement.coding.train.cross_validate``) with each fold's training part cut to that fraction
of its utterances (a fixed random subset per fold), the shipped setting (C, block weights, no
class weights) and the same features. Prints macro-F1 and per-act F1 per fraction. Only the
training split is read; the held-out split is never touched. A curve still rising at 1.0 says
the coder is data-limited (write more data); a flat one says it is model-limited.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from attunement.coding import train as T  # noqa: E402
from attunement.coding.local import load_model  # noqa: E402
from attunement.coding.taxonomy import ACTS  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.5, 0.75, 1.0])
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()
    setting = load_model().metadata.get("model", {})
    c = float(setting.get("C", 0.3))
    blocks = tuple(setting.get("block_weights", (2.0, 0.5, 1.0)))
    records = T.load_labelled(T.data_files()).records
    examples = [e for r in records if not T.is_heldout(r["id"]) for e in T.examples_of(r)]
    fold_of = {e.uid: T.cv_fold(e.uid, args.folds) for e in examples}
    print(f"{len(examples)} training sentences; C={c}, block weights {blocks}\n")
    print(f"{'fraction':>8s} {'train':>6s} {'macro':>6s} " + " ".join(f"{a[:7]:>7s}" for a in ACTS))
    for frac in args.fractions:
        gold: list[str] = []
        pred: list[str] = []
        n_train = 0
        for k in range(args.folds):
            rest = sorted({e.uid for e in examples if fold_of[e.uid] != k})
            random.Random(k).shuffle(rest)
            keep = set(rest[: int(len(rest) * frac)])
            tr = [e for e in examples if e.uid in keep]
            te = [e for e in examples if fold_of[e.uid] == k]
            vocab = T.build_vocab(tr)
            x = T.design_matrix(tr, vocab, block_weights=blocks)
            clf = T._fit(x, [e.act for e in tr], c, None)  # the trainer's own fit
            pred += list(clf.predict(T.design_matrix(te, vocab, block_weights=blocks)))
            gold += [e.act for e in te]
            n_train = len(tr)
        m = T.act_metrics(gold, pred)
        f1 = " ".join(f"{m['per_act'][a]['f1']:7.3f}" for a in ACTS)
        print(f"{frac:8.2f} {n_train:6d} {m['macro_f1']:6.3f} {f1}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
