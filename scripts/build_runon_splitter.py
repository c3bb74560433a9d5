"""Rebuild the run-on splitter (src/attunement/coding/weights/runon-splitter-v1.npz + .json).

    .venv/bin/python scripts/build_runon_splitter.py [--folds 5] [--out PATH] [--cv-table F]

Candidates: every whitespace gap inside a stretch with no sentence punctuation, within the
sentence segments the punctuation rules produce (``segment(text, split_runons=False)``). A gap
is a positive when a gold sentence of the labelled data begins right after it. Only the
training split is read (``is_heldout`` False). Logistic regression (scikit-learn) over the gap
features of :mod:`attunement.coding.runon` plus distance bins (from the previous gold boundary
and to the end of the stretch); C, the score threshold and the stretch-length gate are chosen by
grouped (by utterance) cross-validation for the best boundary F1 (the gate: the largest, up to
12 words, within 0.01 F1 of the best, so fewer stretches are scored and short phrases are left
alone). F1 rather than a precision-weighted score: a missed cut gives two sentences one act,
while a wrong cut usually leaves the larger piece, and so the act, on its sentence (the
end-to-end table of benchmarks/coder_accuracy.py). Decoding in CV is the run-time one: greedy,
left to right, distances from the previous predicted cut. Deterministic: same data, same
bytes.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from attunement.coding import runon  # noqa: E402
from attunement.coding.segment import segment  # noqa: E402
from attunement.coding.train import data_files, is_heldout, load_labelled  # noqa: E402

GRID_C = (0.3, 1.0, 3.0)
GRID_P = tuple(round(0.3 + 0.05 * i, 2) for i in range(13))  # probability thresholds 0.3..0.9
# Gates above 12 words leave common two-sentence chat turns whole ("ugh thats rough do u want
# advice or do u just wanna vent" is 12): CV barely tells such gates apart, so the grid stops.
GRID_N = tuple(range(3, 13))
N_TOLERANCE = 0.01  # the largest gate within this F1 of the best: fewer, safer calls
# F1, not F0.5: a missed cut leaves two sentences with one act, while a wrong cut usually
# leaves the larger piece, and so the act, on its sentence (coder_accuracy.py's cut table).
BETA = 1.0
CLASS_WEIGHT: str | None = None
MIN_DF = 2
N_BINS = len(runon._BINS)
CLASSES = runon.lexicon_classes()  # frozen into the metadata


def stretches_of(rec: dict) -> list[dict]:
    """The candidate stretches of one record: tokens, gap labels, features, blocked gaps."""
    text = rec["text"]
    starts, pos = set(), 0
    for sent, _ in rec["labels"]:
        a = text.find(sent, pos)
        pos = a + len(sent)
        starts.add(a + len(sent) - len(sent.lstrip()))
    out = []
    for seg in segment(text, split_runons=False):
        if seg.kind != "sentence":
            continue
        for toks in runon.stretches(seg.text):
            if len(toks) < 2:
                continue
            w, c, reg = runon.prepare(toks, CLASSES)
            n = len(toks)
            y = [seg.start + toks[g + 1].start in starts for g in range(n - 1)]
            feats, prev = [], -1
            for g in range(n - 1):
                f = runon.gap_features(toks, w, c, reg, g)
                f += [f"dp={runon.dist_bin(g - prev)}", f"de={runon.dist_bin(n - 1 - g)}"]
                feats.append(f)
                if y[g]:
                    prev = g
            block = [runon.blocked(toks, g, seg.text) for g in range(n - 1)]
            out.append(
                {"id": rec["id"], "y": y, "feats": feats, "block": block, "n": n, "reg": reg}
            )
    return out


def fit(stretches: list[dict], c: float) -> runon.Splitter:
    """Logistic regression on the unblocked gaps; features seen twice or more."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    df: dict[str, int] = {}
    rows, ys = [], []
    for s in stretches:
        for f, y, b in zip(s["feats"], s["y"], s["block"], strict=True):
            if not b:
                rows.append(f)
                ys.append(y)
                for name in set(f):
                    df[name] = df.get(name, 0) + 1
    vocab = sorted(k for k, v in df.items() if v >= MIN_DF or k[:3] in ("dp=", "de="))
    index = {k: i for i, k in enumerate(vocab)}
    cols = [[index[k] for k in f if k in index] for f in rows]
    indptr = np.cumsum([0] + [len(x) for x in cols])
    x = csr_matrix(
        (np.ones(indptr[-1]), np.concatenate(cols), indptr), shape=(len(rows), len(vocab))
    )
    clf = LogisticRegression(C=c, max_iter=3000, class_weight=CLASS_WEIGHT)
    clf.fit(x, np.array(ys))
    coef = clf.coef_[0]
    weights = {k: float(coef[i]) for k, i in index.items() if k[:3] not in ("dp=", "de=")}
    dist = {p: np.zeros(N_BINS) for p in ("dp=", "de=")}
    for k, i in index.items():
        if k[:3] in dist:
            dist[k[:3]][int(k[3:])] = coef[i]
    return runon.Splitter(
        weights, float(clf.intercept_[0]), dist["dp="], dist["de="], 0.0, 0, CLASSES, True
    )


def base_scores(model: runon.Splitter, s: dict) -> np.ndarray:
    """Each gap's score without the distance-from-previous-cut term (that one is decoded)."""
    get = model.weights.get
    return np.array(
        [
            model.bias + model.dist_end[int(f[-1][3:])] + sum(get(k, 0.0) for k in f[:-2])
            for f in s["feats"]
        ]
    )


def decode(model: runon.Splitter, s: dict, base: np.ndarray, thr: float) -> list[bool]:
    """Greedy left-to-right cuts, exactly as :meth:`runon.Splitter.cuts`."""
    cut, last = [False] * (s["n"] - 1), -1
    for g in range(s["n"] - 1):
        if s["block"][g]:
            continue
        if base[g] + model.dist_prev[runon.dist_bin(g - last)] > thr:
            cut[g], last = True, g
    return cut


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    fb = (1 + BETA**2) * p * r / (BETA**2 * p + r) if p + r else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f1, f"f{BETA:g}": fb, "tp": tp, "fp": fp, "fn": fn}


def cross_validate(stretches: list[dict], folds: int) -> dict:
    """Counts per (C, threshold, gate) over out-of-fold decodes; the best by F-beta."""
    ids = sorted({s["id"] for s in stretches})
    fold_of = {uid: i % folds for i, uid in enumerate(ids)}
    counts: dict[tuple[float, float, int, bool], list[int]] = {}
    for c in GRID_C:
        for k in range(folds):
            train = [s for s in stretches if fold_of[s["id"]] != k]
            test = [s for s in stretches if fold_of[s["id"]] == k]
            model = fit(train, c)
            bases = [base_scores(model, s) for s in test]
            for p in GRID_P:
                thr = float(np.log(p / (1 - p)))
                cuts = [decode(model, s, b, thr) for s, b in zip(test, bases, strict=True)]
                for n_min, prose in ((n, pr) for n in GRID_N for pr in (True, False)):
                    cnt = counts.setdefault((c, p, n_min, prose), [0, 0, 0])
                    for s, cut in zip(test, cuts, strict=True):
                        on = s["n"] >= n_min and (prose or s["reg"] != "ucP")
                        for y, z in zip(s["y"], cut, strict=True):
                            z = z and on
                            cnt[0] += y and z
                            cnt[1] += z and not y
                            cnt[2] += y and not z
    table = {key: prf(*v) for key, v in counts.items()}
    score = {key: round(m[f"f{BETA:g}"], 6) for key, m in table.items()}
    top = max(score.values())
    near = [key for key in table if score[key] >= top - N_TOLERANCE]
    prose = all(key[3] for key in near)  # skip capitalised, punctuated prose if it costs little
    n_min = max(key[2] for key in near if key[3] == prose)
    best = max(
        (key for key in table if key[2:] == (n_min, prose)), key=lambda k: (score[k], -k[0], k[1])
    )
    return {"best": best, "table": table}


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An .npz with fixed zip timestamps, so a rebuild is byte-identical."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=runon.WEIGHTS)
    ap.add_argument("--cv-table", type=Path, help="also write every CV cell's counts here (JSON)")
    args = ap.parse_args()
    data = load_labelled(data_files())
    train = [r for r in data.records if not is_heldout(r["id"])]
    stretches = [s for r in train for s in stretches_of(r)]
    n_pos = sum(sum(s["y"]) for s in stretches)
    n_gaps = sum(len(s["y"]) for s in stretches)
    print(f"{len(train)} training utterances, {n_gaps} candidate gaps, {n_pos} boundaries")
    cv = cross_validate(stretches, args.folds)
    if args.cv_table:
        cells = [[*key, *m.values()] for key, m in sorted(cv["table"].items())]
        args.cv_table.write_text(json.dumps(cells) + "\n", encoding="utf-8")
    c, p, n_min, prose = cv["best"]
    best = cv["table"][cv["best"]]
    for (cc, pp, nn, pr), m in sorted(cv["table"].items()):
        if cc == c and nn == n_min and pr == prose:
            print(f"C={cc} p>{pp:.2f} N>={nn}: " + " ".join(f"{k} {v:.3f}" for k, v in m.items()))
    for (cc, pp, nn, pr), m in sorted(cv["table"].items()):
        if (cc, pp, nn) == (c, p, n_min):
            print(f"  prose stretches split={pr}: {m}")
    print(f"best: C={c} p>{p} N>={n_min} prose={prose}: {best}")
    model = fit(stretches, c)
    write_npz(args.out.with_suffix(".npz"), model.arrays())
    meta = {
        "version": "runon-splitter-v1",
        "model": "logistic regression (scikit-learn, lbfgs), binary features",
        "features": "2 words before/after the gap (lowercased), their pairs, word classes "
        "(lexicon.json + discourse/conjunction/pronoun lists), the words one and two back "
        "with the next word's class, next-word capital, comma/;/: before the gap, distance "
        "bins from the previous cut and to the stretch end",
        "distance_bins": list(runon._BINS),
        "classes": {
            c: sorted(w for w, k in CLASSES.items() if k == c)
            for c in sorted(set(CLASSES.values()))
        },
        "n_features": len(model.weights),
        "C": c,
        "threshold_probability": p,
        "threshold": round(float(np.log(p / (1 - p))), 6),
        "min_words": n_min,
        "split_prose": prose,
        "decoding": "greedy left to right; cut when score > threshold",
        "cv": {
            "folds": args.folds,
            "grouped_by": "utterance id",
            "objective": f"boundary F{BETA:g}",
            "boundary": {k: round(v, 4) if isinstance(v, float) else v for k, v in best.items()},
            "grid": {"C": list(GRID_C), "p": list(GRID_P), "min_words": list(GRID_N)},
            "min_words_rule": f"largest gate (grid up to {GRID_N[-1]}) within {N_TOLERANCE} "
            f"F{BETA:g} of the best",
            "split_prose_rule": "prose stretches (capitalised start, terminal punctuation at the "
            f"end) are left alone when that stays within {N_TOLERANCE} F{BETA:g} of the best",
        },
        "training": {"utterances": len(train), "gaps": n_gaps, "boundaries": n_pos},
        "split": "training split only: attunement.coding.train.is_heldout(id) is False",
        "data_hash": data.data_hash,
    }
    args.out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}.npz ({args.out.with_suffix('.npz').stat().st_size} bytes) + .json")


if __name__ == "__main__":
    main()
