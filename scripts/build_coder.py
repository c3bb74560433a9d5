"""Rebuild the local coder's shipped weights from the labelled data.

    .venv/bin/python scripts/build_coder.py [--folds 5] [--out PATH_WITHOUT_SUFFIX]
    .venv/bin/python scripts/build_coder.py --snapshot-only

Needs scikit-learn (extra ``build-coder``). Chooses C, class weights and whether to apply the
rules by grouped cross-validation on the training split, fits on the training split, scores
the held-out split once, and writes ``local-coder-v1.npz`` + ``local-coder-v1.json`` (metadata:
version, feature config, labels, data hash, split rule, CV grid, held-out metrics).

It then writes ``tests/data/local_coder_snapshot.json``: the shipped coder's spans (acts and
confidences) on the held-out utterances, with the sha256 of the weights they came from.
``tests/test_local_coder.py`` checks that the coder still gives exactly these outputs, so a
change to the inference code that alters any act or confidence fails there
(``--snapshot-only`` rewrites it for the current weights without retraining).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from attunement.coding.local import MODEL_NAME, LinearModel, LocalCoder  # noqa: E402
from attunement.coding.train import WEIGHTS_DIR, heldout_records, train  # noqa: E402

SNAPSHOT = ROOT / "tests" / "data" / "local_coder_snapshot.json"


def write_snapshot(weights: Path, path: Path = SNAPSHOT) -> int:
    """Code the held-out utterances with the model at ``weights`` and store the spans."""
    npz = weights.with_suffix(".npz")
    coder = LocalCoder(LinearModel.load(weights))
    records = heldout_records()
    coded = coder.code_many([r["text"] for r in records], [r.get("context") for r in records])
    snapshot = {
        "about": "LocalCoder outputs on the held-out utterances; written by build_coder.py",
        "weights_sha256": hashlib.sha256(npz.read_bytes()).hexdigest(),
        "utterances": [
            {
                "id": rec["id"],
                "text": rec["text"],
                "context": rec.get("context"),
                "spans": [[s.start, s.end, s.act, s.confidence] for s in cu.spans],
            }
            for rec, cu in zip(records, coded, strict=True)
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(snapshot, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    return len(records)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--jobs", type=int, help="threads for the CV fits (default: one per CPU)")
    ap.add_argument("--out", type=Path, default=WEIGHTS_DIR / MODEL_NAME)
    ap.add_argument(
        "--data", type=Path, nargs="*", help="labelled files (default: data/labelled_*)"
    )
    ap.add_argument("--snapshot", type=Path, default=SNAPSHOT, help="where the snapshot goes")
    ap.add_argument(
        "--snapshot-only", action="store_true", help="only rewrite the snapshot for --out"
    )
    args = ap.parse_args()
    if not args.snapshot_only:
        meta = train(args.data or None, args.out, folds=args.folds, jobs=args.jobs)
        held = meta["heldout"]
        print(f"wrote {args.out.with_suffix('.npz')} ({meta['n_features']} features)")
        print(f"{'act':16s} {'P':>6s} {'R':>6s} {'F1':>6s} {'n':>5s}")
        for act, m in held["per_act"].items():
            print(
                f"{act:16s} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f} "
                f"{m['support']:5d}"
            )
        print(f"{'macro-F1':16s} {held['macro_f1']:20.3f}   accuracy {held['accuracy']:.3f}")
    n = write_snapshot(args.out, args.snapshot)
    print(f"wrote {args.snapshot} ({n} held-out utterances)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
