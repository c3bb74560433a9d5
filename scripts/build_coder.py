"""Rebuild the local coder's shipped weights from the labelled data.

    .venv/bin/python scripts/build_coder.py [--folds 5] [--out PATH_WITHOUT_SUFFIX]

Needs scikit-learn (extra ``build-coder``). Chooses C, class weights and whether to apply the
rules by grouped cross-validation on the training split, fits on the training split, scores
the held-out split once, and writes ``local-coder-v1.npz`` + ``local-coder-v1.json`` (metadata:
version, feature config, labels, data hash, split rule, CV grid, held-out metrics).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from attunement.coding.local import MODEL_NAME  # noqa: E402
from attunement.coding.train import WEIGHTS_DIR, train  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=WEIGHTS_DIR / MODEL_NAME)
    ap.add_argument(
        "--data", type=Path, nargs="*", help="labelled files (default: data/labelled_*)"
    )
    args = ap.parse_args()
    meta = train(args.data or None, args.out, folds=args.folds)
    held = meta["heldout"]
    print(f"wrote {args.out.with_suffix('.npz')} ({meta['n_features']} features)")
    print(f"{'act':16s} {'P':>6s} {'R':>6s} {'F1':>6s} {'n':>5s}")
    for act, m in held["per_act"].items():
        print(
            f"{act:16s} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f} {m['support']:5d}"
        )
    print(f"{'macro-F1':16s} {held['macro_f1']:20.3f}   accuracy {held['accuracy']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
