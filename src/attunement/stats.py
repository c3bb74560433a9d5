"""Bootstrap confidence intervals, clustered (by scenario, by item, by dialogue).

Every headline metric is an ``Estimate``: the point value with a 95% interval from resampling
whole clusters with replacement, because turns of one dialogue (or framings of one item) are
not independent. Deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

import numpy as np
from pydantic import BaseModel

DEFAULT_BOOT = 2000


class Estimate(BaseModel):
    """A metric with its confidence interval; ``value`` is None when there is no data."""

    value: float | None
    low: float | None = None
    high: float | None = None
    n: int = 0
    n_clusters: int = 0
    confidence: float = 0.95

    def fmt(self, digits: int = 2, scale: float = 1.0) -> str:
        """'0.53 [0.41, 0.66]' style text for tables."""
        if self.value is None:
            return "n/a"
        v = self.value * scale
        if self.low is None or self.high is None:
            return f"{v:.{digits}f}"
        return f"{v:.{digits}f} [{self.low * scale:.{digits}f}, {self.high * scale:.{digits}f}]"


def _cluster_index(clusters: Sequence[Hashable] | None, n: int) -> np.ndarray:
    if clusters is None:
        return np.arange(n)
    if len(clusters) != n:
        raise ValueError(f"{len(clusters)} cluster labels for {n} values")
    _, inverse = np.unique(np.asarray([str(c) for c in clusters]), return_inverse=True)
    return inverse


def bootstrap_ratio(
    numerators: Sequence[float],
    denominators: Sequence[float],
    clusters: Sequence[Hashable] | None = None,
    *,
    n_boot: int = DEFAULT_BOOT,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Ratio sum(num)/sum(den) with a cluster bootstrap interval.

    >>> bootstrap_ratio([1, 0, 1, 1], [1, 1, 1, 1], ["a", "a", "b", "c"]).value
    0.75
    """
    num = np.asarray(numerators, dtype=float)
    den = np.asarray(denominators, dtype=float)
    n = len(num)
    if n == 0 or den.sum() == 0:
        return Estimate(value=None, n=n, confidence=confidence)
    idx = _cluster_index(clusters, n)
    k = int(idx.max()) + 1
    cnum = np.bincount(idx, weights=num, minlength=k)
    cden = np.bincount(idx, weights=den, minlength=k)
    value = float(cnum.sum() / cden.sum())
    if k < 2:
        return Estimate(value=value, n=n, n_clusters=k, confidence=confidence)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, k, size=(n_boot, k))
    bnum = cnum[draws].sum(axis=1)
    bden = cden[draws].sum(axis=1)
    ok = bden > 0
    ratios = bnum[ok] / bden[ok]
    alpha = (1 - confidence) / 2
    low, high = np.quantile(ratios, [alpha, 1 - alpha])
    return Estimate(
        value=value, low=float(low), high=float(high), n=n, n_clusters=k, confidence=confidence
    )


def bootstrap_mean(
    values: Sequence[float],
    clusters: Sequence[Hashable] | None = None,
    *,
    n_boot: int = DEFAULT_BOOT,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Mean of ``values`` with a cluster bootstrap interval (None values must be dropped first).

    >>> round(bootstrap_mean([1.0, 2.0, 3.0, 4.0], seed=1).value, 2)
    2.5
    """
    return bootstrap_ratio(
        values, [1.0] * len(values), clusters, n_boot=n_boot, confidence=confidence, seed=seed
    )


def bootstrap_stat(
    statistic: Callable[[np.ndarray], float | None],
    clusters: Sequence[Hashable],
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Any statistic of a set of rows (given as row indices), resampling whole clusters.

    ``statistic`` gets an index array into the rows and returns a float (or None to drop the
    draw). Use for F1, differences of paired rates and other non-ratio metrics.
    """
    n = len(clusters)
    if n == 0:
        return Estimate(value=None)
    idx = _cluster_index(clusters, n)
    k = int(idx.max()) + 1
    members = [np.flatnonzero(idx == c) for c in range(k)]
    value = statistic(np.arange(n))
    if value is None:
        return Estimate(value=None, n=n, n_clusters=k, confidence=confidence)
    if k < 2:
        return Estimate(value=float(value), n=n, n_clusters=k, confidence=confidence)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_boot):
        pick = rng.integers(0, k, size=k)
        v = statistic(np.concatenate([members[c] for c in pick]))
        if v is not None:
            out.append(v)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(out, [alpha, 1 - alpha]) if out else (None, None)
    return Estimate(
        value=float(value),
        low=None if low is None else float(low),
        high=None if high is None else float(high),
        n=n,
        n_clusters=k,
        confidence=confidence,
    )


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two labelings (None when chance agreement is total).

    >>> cohen_kappa(["x", "y", "x", "y"], ["x", "y", "x", "y"])
    1.0
    """
    cats = sorted(set(a) | set(b))
    if not a:
        return None
    pa = np.array([[x == c for c in cats] for x in a], dtype=float).mean(axis=0)
    pb = np.array([[x == c for c in cats] for x in b], dtype=float).mean(axis=0)
    po = float(np.mean([x == y for x, y in zip(a, b, strict=True)]))
    pe = float((pa * pb).sum())
    return None if pe >= 1.0 else (po - pe) / (1 - pe)


# Confidence bins for reliability tables: equal width, the first starting at 0 (a coder's
# top-class probability is at least 1 / n_classes, so the low bins are usually empty).
CALIBRATION_EDGES: tuple[float, ...] = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


class CalibrationBin(BaseModel):
    """One confidence bin of a reliability table: how sure the coder said it was, and how
    often it was right."""

    low: float
    high: float
    n: int
    mean_confidence: float | None
    accuracy: float | None


def calibration_bins(
    correct: Sequence[bool],
    confidence: Sequence[float],
    edges: Sequence[float] = CALIBRATION_EDGES,
) -> list[CalibrationBin]:
    """Reliability table: per bin [low, high) (the last bin includes 1.0), the count, the
    mean confidence and the accuracy of the predictions whose confidence falls in it.

    >>> [(b.n, b.accuracy) for b in calibration_bins([True, False, True], [0.95, 0.55, 0.92])]
    [(0, None), (1, 0.0), (0, None), (0, None), (0, None), (2, 1.0)]
    """
    ok = np.asarray(correct, dtype=bool)
    conf = np.asarray(confidence, dtype=float)
    where = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, len(edges) - 2)
    out = []
    for i, (low, high) in enumerate(zip(edges, edges[1:], strict=False)):
        hit = where == i
        n = int(hit.sum())
        out.append(
            CalibrationBin(
                low=low,
                high=high,
                n=n,
                mean_confidence=float(conf[hit].mean()) if n else None,
                accuracy=float(ok[hit].mean()) if n else None,
            )
        )
    return out


def expected_calibration_error(
    correct: Sequence[bool],
    confidence: Sequence[float],
    edges: Sequence[float] = CALIBRATION_EDGES,
) -> float | None:
    """The bins' |accuracy - mean confidence|, weighted by their share of the predictions
    (0 is perfectly calibrated; None with no predictions).

    >>> round(expected_calibration_error([True, True, False, False], [0.9, 0.9, 0.9, 0.9]), 3)
    0.4
    """
    bins = calibration_bins(correct, confidence, edges)
    total = sum(b.n for b in bins)
    if not total:
        return None
    gap = sum(b.n * abs(b.accuracy - b.mean_confidence) for b in bins if b.n)
    return gap / total
