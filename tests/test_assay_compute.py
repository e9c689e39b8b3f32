"""Assay arithmetic: binning, aggregation, scores and window scoring, against the tutorial's
published numbers and against plain re-computations written here with loops and `math`."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emulator.assays import (
    Summarizer,
    aggregate,
    assay_status,
    baseline_edges,
    bin_counts,
    compute_baseline,
    edge_names,
    score,
    score_windows,
    window_bounds,
)

DAY = 86_400_000
JAN_1 = 1_641_013_200_000  # 2022-01-01T05:00:00Z, the tutorial's baseline start
# The tutorial's baseline edges: min, q_20 == q_40, q_60 == q_80, max.
LOW, TIE_1, TIE_2, HIGH = (
    -3.6163810435665233,
    -0.39764636440424433,
    0.6752651953165153,
    7.112734553641073,
)
# fmt: off
TUTORIAL_SCORES = [
    0.0, 0.0003543090106786176, 0.0, 0.0014896074883327124, 0.0, 0.0006519997195836994, 0.0,
]
# fmt: on


def summarizer(**overrides: object) -> Summarizer:
    request = {"bin_mode": "Quantile", "aggregation": "Density", "metric": "PSI", "num_bins": 5}
    return Summarizer.from_request({**request, "add_outlier_edges": True, **overrides})


def tutorial_like(in_first: int, in_second: int, in_third: int, top: float) -> np.ndarray:
    """Values in [LOW, TIE_1], (TIE_1, TIE_2] and (TIE_2, top], with runs of copies of TIE_1 and
    TIE_2 long enough that the quantiles tie as in the tutorial (ranks 362..1040, 1087..1653)."""
    first = np.concatenate(
        [np.linspace(LOW, TIE_1, 361, endpoint=False), [TIE_1] * (in_first - 361)]
    )
    second = np.concatenate([np.linspace(TIE_1, TIE_2, 48)[1:-1], [TIE_2] * (in_second - 46)])
    return np.concatenate([first, second, np.linspace(TIE_2, top, in_third + 1)[1:]])


def test_the_tutorials_run_interactive_example_bit_for_bit() -> None:
    s = summarizer()
    baseline = compute_baseline(tutorial_like(1040, 613, 159, HIGH), s, JAN_1, JAN_1 + DAY)
    assert baseline.summary["edges"] == [LOW, TIE_1, TIE_1, TIE_2, TIE_2, HIGH, None]
    assert baseline.counts.tolist() == [0, 1040, 0, 613, 0, 159, 0]
    assert baseline.summary["edge_names"] == [
        "left_outlier", "q_20", "q_40", "q_60", "q_80", "q_100", "right_outlier",
    ]  # fmt: skip
    assert baseline.summary["aggregated_values"] == [
        0.0, 0.5739514348785872, 0.0, 0.3383002207505519, 0.0, 0.08774834437086093, 0.0,
    ]  # fmt: skip
    assert (baseline.summary["start"], baseline.summary["end"]) == (
        "2022-01-01T05:00:00Z",
        "2022-01-02T05:00:00Z",
    )
    window = tutorial_like(1066, 573, 173, 3.8939998744787943)
    times = JAN_1 + DAY + np.arange(window.size, dtype=np.int64) * 40_000
    bounds = window_bounds(JAN_1 + DAY, DAY, DAY, JAN_1 + 2 * DAY)
    [result] = score_windows(baseline, times, window, bounds, s, 0.0, 0.1)
    assert result.scores == TUTORIAL_SCORES
    assert result.score == 0.002495916218595029
    assert (result.index, result.status) == (None, "Warning")
    assert result.summary["aggregated_values"] == [
        0.0, 0.5883002207505519, 0.0, 0.3162251655629139, 0.0, 0.09547461368653422, 0.0,
    ]  # fmt: skip
    assert result.summary["edge_names"] == [
        "left_outlier", "e_-3.98e-1", "e_-3.98e-1", "e_6.75e-1", "e_6.75e-1", "e_7.11e0",
        "right_outlier",
    ]  # fmt: skip
    assert result.summary["start"] == "2022-01-02T05:00:00Z"
    assert result.summary["max"] == 3.8939998744787943 and result.summary["count"] == 1812


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quantile_edges_are_numpys_closest_observation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for n in (1, 2, 7, 100, 1001):
        for num_bins in (1, 2, 3, 5, 10, 14):
            for x in (rng.normal(size=n), rng.integers(0, 4, size=n).astype(float)):
                edges = baseline_edges(x, summarizer(num_bins=num_bins))
                expected = [
                    np.quantile(x, k / num_bins, method="closest_observation")
                    for k in range(1, num_bins)
                ]
                assert edges.tolist() == [x.min(), *expected, x.max(), math.inf]
                # The notes' rule: the j-th smallest with j = round(n*k/B). numpy computes n*(k/B)
                # in floats, so when n*k/B is exactly a half the two can pick neighbours.
                ordered = np.sort(x)
                for k in range(1, num_bins):
                    if (2 * n * k) % num_bins or (2 * n * k // num_bins) % 2 == 0:
                        j = max(1, round(n * k / num_bins))
                        assert edges[k] == ordered[j - 1]


def test_ties_give_duplicate_edges_and_empty_bins() -> None:
    x = np.array([1, 1, 1, 1, 2, 2, 2, 3, 3, 3], dtype=float)
    s = summarizer()
    edges = baseline_edges(x, s)
    assert edges.tolist() == [1, 1, 1, 2, 3, 3, math.inf]
    assert bin_counts(x, edges, s).tolist() == [0, 4, 0, 3, 3, 0, 0]


def test_equal_bins_with_and_without_outlier_edges() -> None:
    baseline = np.arange(11, dtype=float)
    window = np.array([-1.0, 0.0, 10.0, 11.0, 2.0])
    s = summarizer(bin_mode="Equal")
    edges = baseline_edges(baseline, s)
    assert edges.tolist() == [0, 2, 4, 6, 8, 10, math.inf]
    assert bin_counts(baseline, edges, s).tolist() == [0, 3, 2, 2, 2, 2, 0]
    assert bin_counts(window, edges, s).tolist() == [1, 2, 0, 0, 0, 1, 1]
    assert edge_names(edges, s, baseline=True)[1:3] == ["e_2.00e0", "e_4.00e0"]
    inner = summarizer(bin_mode="Equal", add_outlier_edges=False)
    edges = baseline_edges(baseline, inner)
    assert edges.tolist() == [2, 4, 6, 8, 10]
    assert bin_counts(window, edges, inner).tolist() == [3, 0, 0, 0, 2]
    assert edge_names(edges, inner, baseline=False)[-1] == "e_1.00e1"


def test_provided_bins_bound_the_left_outlier_by_the_baseline_or_an_extra_edge() -> None:
    baseline = np.array([0.5, 2.0, 4.0, 9.0])
    s = summarizer(bin_mode="Provided", num_bins=3, provided_edges=[5, 1, 3])
    edges = baseline_edges(baseline, s)
    assert edges.tolist() == [0.5, 1, 3, 5, math.inf]
    assert bin_counts(np.array([0.4, 0.5, 1, 3.5, 5, 5.1]), edges, s).tolist() == [1, 2, 0, 2, 1]
    extra = summarizer(bin_mode="Provided", num_bins=3, provided_edges=[0, 1, 3, 5])
    edges = baseline_edges(baseline, extra)
    assert edges.tolist() == [0, 1, 3, 5, math.inf]
    assert bin_counts(np.array([-1.0, 0.0, 0.5]), edges, extra).tolist() == [1, 2, 0, 0, 0]
    for provided in ([1, 3, 5], [0, 1, 3, 5]):
        inner = summarizer(
            bin_mode="Provided", num_bins=3, provided_edges=provided, add_outlier_edges=False
        )
        edges = baseline_edges(baseline, inner)
        assert edges.tolist() == [1, 3, 5]
        assert bin_counts(np.array([-1.0, 1.0, 2.0, 9.0]), edges, inner).tolist() == [2, 1, 1]
        assert edge_names(edges, inner, baseline=True) == ["e_1.00e0", "e_3.00e0", "e_5.00e0"]


def test_edge_names() -> None:
    edges = np.array([-1.0, -0.39764636440424433, 7.112734553641073, 13.0, 0.0, math.inf])
    s = summarizer(num_bins=4)
    assert edge_names(edges, s, baseline=False) == [
        "left_outlier", "e_-3.98e-1", "e_7.11e0", "e_1.30e1", "e_0.00e0", "right_outlier",
    ]  # fmt: skip
    assert edge_names(edges, s, baseline=True)[1:-1] == ["q_25", "q_50", "q_75", "q_100"]
    three = summarizer(num_bins=3, add_outlier_edges=False)
    assert edge_names(np.array([1.0, 2.0, 3.0]), three, baseline=True) == [
        "q_33.33", "q_66.67", "q_100",
    ]  # fmt: skip
    assert edge_names(np.array([1e-5, 2.0, 3.0]), three, baseline=False)[0] == "e_1.00e-5"


def plain_shares(counts: list[int]) -> list[float]:
    total = 0
    for c in counts:
        total += c
    return [c / total for c in counts]


@pytest.mark.parametrize("seed", [3, 4, 5, 6])
def test_metrics_match_a_plain_computation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    base = [int(c) for c in rng.integers(0, 50, size=9) * rng.integers(0, 2, size=9)]
    base[4] += 1  # never all empty
    win = [int(c) for c in rng.integers(0, 50, size=9) * rng.integers(0, 2, size=9)]
    win[2] += 1
    b, w = plain_shares(base), plain_shares(win)
    psi = []
    for i in range(9):
        if base[i] == 0 and win[i] == 0:
            psi.append(0.0)
        else:
            bi, wi = (b[i] if b[i] > 0 else 0.005), (w[i] if w[i] > 0 else 0.005)
            psi.append((wi - bi) * math.log(wi / bi))
    diffs = [abs(w[i] - b[i]) for i in range(9)]
    total = 0.0
    for p in psi:
        total += p
    assert score(base, win, "PSI") == (total, psi, None)
    worst = max(diffs)
    assert score(base, win, "MaxDiff") == (worst, diffs, diffs.index(worst))
    total_diff, diff_scores, _ = score(base, win, "SumDiff")
    assert diff_scores == diffs and total_diff == pytest.approx(math.fsum(diffs), rel=1e-12)
    weights = [float(v) for v in rng.uniform(0, 2, size=9)]
    weighted = [d * weights[i] for i, d in enumerate(diffs)]
    assert score(base, win, "SumDiff", weights)[0] == pytest.approx(math.fsum(weighted))
    assert score(base, win, "MaxDiff", weights)[2] == weighted.index(max(weighted))


def test_psi_counts_an_empty_bin_as_half_a_percent() -> None:
    value, scores, _ = score([0, 10], [5, 5], "PSI")
    assert scores[0] == (0.5 - 0.005) * math.log(0.5 / 0.005)
    assert value == scores[0] + scores[1]


@pytest.mark.parametrize("aggregation", ["Density", "Cumulative", "Edges"])
def test_aggregations_match_a_plain_computation(aggregation: str) -> None:
    counts = [0, 3, 7, 0, 11, 2]
    edges = [-1.5, 0.25, 2.0, 2.0, 9.75, math.inf]
    density = plain_shares(counts)
    running, cumulative = 0.0, []
    for d in density:
        running += d
        cumulative.append(running)
    expected = {"Density": density, "Cumulative": cumulative, "Edges": [*edges[:-1], None]}
    assert aggregate(np.array(counts), np.array(edges), aggregation) == expected[aggregation]
    assert aggregate([0, 0], [1.0, math.inf], "Density") == [0.0, 0.0]


def test_window_bounds_keep_only_complete_windows() -> None:
    assert window_bounds(0, 10, 10, 35).tolist() == [[0, 10], [10, 20], [20, 30]]
    assert window_bounds(0, 10, 10, 30).tolist() == [[0, 10], [10, 20], [20, 30]]
    assert window_bounds(0, 10, 5, 20).tolist() == [[0, 10], [5, 15], [10, 20]]
    assert window_bounds(100, 10, 10, 109).shape == (0, 2)
    assert window_bounds(0, 10, 10, 20).dtype == np.int64


def test_records_on_a_boundary_go_to_the_later_window_and_empty_windows_are_skipped() -> None:
    s = summarizer(bin_mode="Equal", num_bins=2)
    baseline = compute_baseline(np.array([0.0, 1.0, 2.0, 3.0]), s, 0, 1000)
    times = np.array([1000, 1999, 2000, 2999, 3000, 5000], dtype=np.int64)
    values = np.array([0.0, 1.0, 2.0, 3.0, 3.0, 9.0])
    results = score_windows(
        baseline, times, values, window_bounds(1000, 1000, 1000, 6000), s, None, 1
    )
    counts = [(r.start_ms, r.summary["count"]) for r in results]
    assert counts == [(1000, 2), (2000, 2), (3000, 1), (5000, 1)]
    assert [r.summary["edges"] for r in results[:1]] == [[0.0, 1.5, 3.0, None]]
    bounds = window_bounds(1000, 2000, 1000, 4000)
    overlapping = score_windows(baseline, times, values, bounds, s, None, 1)
    assert [r.summary["count"] for r in overlapping] == [4, 3]
    assert overlapping[1].summary["aggregated_values"] == [0.0, 0.0, 1.0, 0.0]


def test_status_thresholds() -> None:
    assert assay_status(0.1, 0.05, 0.1) == "Alert"
    assert assay_status(0.05, 0.05, 0.1) == "Warning"
    assert assay_status(0.0, 0.0, 0.1) == "Warning"
    assert assay_status(0.049, 0.05, 0.1) == "Ok"
    assert assay_status(0.09, None, 0.1) == "Ok"


def test_summaries_are_plain_json_values() -> None:
    s = summarizer(num_bins=2)
    baseline = compute_baseline(np.array([1.0, 2.0, 3.0, 4.0]), s, 0, 1)
    assert baseline.summary["median"] == 2.5 and baseline.summary["std"] == math.sqrt(1.25)
    assert all(type(v) is float for v in baseline.summary["aggregated_values"])
    assert type(baseline.summary["count"]) is int and type(baseline.summary["mean"]) is float
