"""Clustered bootstrap intervals: correct point values, sane widths, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from attunement.stats import bootstrap_mean, bootstrap_ratio, bootstrap_stat


def test_mean_and_interval_contain_value():
    rng = np.random.default_rng(0)
    values = rng.normal(50, 10, size=200)
    est = bootstrap_mean(values, seed=3)
    assert abs(est.value - values.mean()) < 1e-9
    assert est.low < est.value < est.high
    # roughly +/- 1.96 * sd / sqrt(n) = +/- 1.4
    assert 2.0 < est.high - est.low < 3.6


def test_clustering_widens_interval_when_clusters_are_correlated():
    # 20 clusters of 10 identical values: effectively n = 20, not 200
    cluster_means = np.random.default_rng(1).normal(0, 1, size=20)
    values = np.repeat(cluster_means, 10)
    clusters = np.repeat(np.arange(20), 10)
    naive = bootstrap_mean(values, seed=0)
    clustered = bootstrap_mean(values, clusters, seed=0)
    assert (clustered.high - clustered.low) > 2.5 * (naive.high - naive.low)
    assert clustered.n_clusters == 20


def test_ratio_and_determinism():
    num, den, cl = [1, 0, 2, 1], [1, 1, 2, 2], ["a", "a", "b", "c"]
    a = bootstrap_ratio(num, den, cl, seed=5)
    b = bootstrap_ratio(num, den, cl, seed=5)
    assert a == b
    assert a.value == 4 / 6


def test_empty_and_zero_denominator_give_none():
    assert bootstrap_mean([]).value is None
    assert bootstrap_ratio([0, 0], [0, 0]).value is None
    assert bootstrap_mean([]).fmt() == "n/a"


def test_stat_on_indices():
    x = np.array([1.0, 2.0, 3.0, 10.0])
    est = bootstrap_stat(lambda idx: float(np.median(x[idx])), ["a", "b", "c", "d"], seed=0)
    assert est.value == 2.5
    assert est.low <= est.value <= est.high


def test_calibration_bins_and_error():
    """A reliability table bins by confidence (the last bin holds 1.0) and the error weighs
    each bin's |accuracy - confidence| by its share; a coder right as often as it says has
    error 0, one that says 0.95 and is right half the time has 0.45."""
    from attunement.stats import calibration_bins, expected_calibration_error

    conf = [0.55, 0.55, 0.65, 0.95, 1.0]
    ok = [True, False, True, True, True]
    bins = calibration_bins(ok, conf)
    assert [b.n for b in bins] == [0, 2, 1, 0, 0, 2]
    assert bins[1].accuracy == 0.5 and bins[1].mean_confidence == pytest.approx(0.55)
    assert bins[-1].mean_confidence == pytest.approx(0.975)
    # 2/5 * |0.5 - 0.55| + 1/5 * |1 - 0.65| + 2/5 * |1 - 0.975|
    assert expected_calibration_error(ok, conf) == pytest.approx(0.02 + 0.07 + 0.01)
    assert expected_calibration_error([True] * 8 + [False] * 2, [0.8] * 10) == pytest.approx(0)
    assert expected_calibration_error([True, False] * 5, [0.95] * 10) == pytest.approx(0.45)
    assert expected_calibration_error([], []) is None
