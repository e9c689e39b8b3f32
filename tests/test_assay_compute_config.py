"""Assay config checks: every rejected setting names its field; iopaths, durations and times."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from emulator.assays import (
    AssayConfigError,
    Summarizer,
    compute_baseline,
    format_time_z,
    parse_duration_ms,
    parse_iopath,
    parse_time_ms,
)

TUTORIAL_SUMMARIZER = {
    "type": "UnivariateContinuous",
    "bin_mode": "Quantile",
    "aggregation": "Density",
    "metric": "PSI",
    "num_bins": 5,
    "bin_weights": None,
    "bin_width": None,
    "provided_edges": None,
    "add_outlier_edges": True,
}


def test_the_tutorials_summarizer_and_its_meta() -> None:
    s = Summarizer.from_request(TUTORIAL_SUMMARIZER)
    assert s.meta() == {
        "type": "UnivariateContinuous",
        "bin_mode": "Quantile",
        "aggregation": "Density",
        "metric": "PSI",
        "num_bins": 5,
        "bin_weights": None,
        "provided_edges": None,
    }


@pytest.mark.parametrize(
    ("spelling", "metric"),
    [("Maximum Difference of Bins", "MaxDiff"), ("Sum of the Difference of Bins", "SumDiff")],
)
def test_long_metric_names_become_short_ones(spelling: str, metric: str) -> None:
    s = Summarizer.from_request({**TUTORIAL_SUMMARIZER, "metric": spelling})
    assert s.metric == metric and s.meta()["metric"] == metric


def test_weights_and_provided_edges_are_kept() -> None:
    s = Summarizer.from_request(
        {**TUTORIAL_SUMMARIZER, "bin_mode": "Provided", "num_bins": 2, "provided_edges": [3, 1]}
        | {"bin_weights": [1, 2, 3, 4]}
    )
    assert s.meta()["provided_edges"] == [1.0, 3.0] and s.meta()["bin_weights"] == [1, 2, 3, 4]
    inner = {"add_outlier_edges": False, "bin_weights": [0.5, 1.5]}
    assert Summarizer.from_request({**TUTORIAL_SUMMARIZER, "num_bins": 2, **inner}).bin_weights


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "Multivariate"}, "summarizer.type"),
        ({"bin_mode": "Weird"}, "summarizer.bin_mode"),
        ({"bin_mode": ["Quantile"]}, "summarizer.bin_mode"),
        ({"aggregation": None}, "summarizer.aggregation"),
        ({"metric": "KL"}, "summarizer.metric"),
        ({"num_bins": 0}, "summarizer.num_bins"),
        ({"num_bins": 5.0}, "summarizer.num_bins"),
        ({"num_bins": True}, "summarizer.num_bins"),
        ({"add_outlier_edges": "yes"}, "summarizer.add_outlier_edges"),
        ({"bin_mode": "Provided"}, "summarizer.provided_edges"),
        (
            {"bin_mode": "Provided", "provided_edges": [1, "2", 3, 4, 5]},
            "summarizer.provided_edges",
        ),
        ({"bin_mode": "Provided", "provided_edges": [1, 2]}, "summarizer.provided_edges"),
        ({"provided_edges": [1, 2, 3, 4, 5]}, "summarizer.provided_edges"),
        ({"bin_weights": [1, 1, 1, 1, 1]}, "summarizer.bin_weights"),
        ({"bin_weights": [1, 1, 1, 1, 1, 1, None]}, "summarizer.bin_weights"),
        ({"bin_weights": "1,1,1,1,1,1,1"}, "summarizer.bin_weights"),
        ({"add_outlier_edges": False, "bin_weights": [1] * 7}, "summarizer.bin_weights"),
    ],
)
def test_bad_summarizers_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(AssayConfigError) as caught:
        Summarizer.from_request({**TUTORIAL_SUMMARIZER, **change})
    assert caught.value.field == field
    assert str(caught.value) == f"{field}: {caught.value.message}"


def test_a_summarizer_must_be_an_object() -> None:
    with pytest.raises(AssayConfigError) as caught:
        Summarizer.from_request(["Quantile"])
    assert caught.value.field == "summarizer"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("input 0 0", ("input", 0, 0)),
        ("output 1 2", ("output", 1, 2)),
        (" output  0 3 ", ("output", 0, 3)),
    ],
)
def test_iopaths(text: str, parsed: tuple[str, int, int]) -> None:
    assert parse_iopath(text) == parsed


@pytest.mark.parametrize("text", ["input 00", "output 0", "inputs 0 0", "output -1 0", "", None])
def test_bad_iopaths_name_the_field(text: Any) -> None:
    with pytest.raises(AssayConfigError) as caught:
        parse_iopath(text)
    assert caught.value.field == "iopath"
    assert "'output 0 0'" in caught.value.message


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("24 hours", 86_400_000),
        ("1 hour", 3_600_000),
        ("30 minutes", 1_800_000),
        ("7 days", 604_800_000),
        ("2 weeks", 1_209_600_000),
        ("1 day", 86_400_000),
    ],
)
def test_durations(text: str, ms: int) -> None:
    assert parse_duration_ms(text, "window.width") == ms


@pytest.mark.parametrize("text", ["0 hours", "-1 hours", "1.5 hours", "24", "hours", "1 month", 24])
def test_bad_durations_name_the_field(text: Any) -> None:
    with pytest.raises(AssayConfigError) as caught:
        parse_duration_ms(text, "window.interval")
    assert caught.value.field == "window.interval"
    assert "'24 hours'" in caught.value.message


@pytest.mark.parametrize(
    "text",
    [
        "2022-01-01T00:00:00-05:00",
        "2022-01-01T05:00:00+00:00",
        "2022-01-01T05:00:00Z",
        "2022-01-01T05:00:00",
        "2022-01-01T05:00:00.000000+00:00",
    ],
)
def test_times_in_any_zone(text: str) -> None:
    assert parse_time_ms(text, "baseline.Fixed.start_at") == 1_641_013_200_000


@pytest.mark.parametrize("text", ["yesterday", "2022-13-01T00:00:00Z", "", None, 1641013200000])
def test_bad_times_name_the_field(text: Any) -> None:
    with pytest.raises(AssayConfigError) as caught:
        parse_time_ms(text, "window.start")
    assert caught.value.field == "window.start"


def test_format_time_z() -> None:
    assert format_time_z(1_641_013_200_000) == "2022-01-01T05:00:00Z"
    assert format_time_z(1_641_013_200_250) == "2022-01-01T05:00:00.250Z"
    assert format_time_z(parse_time_ms("2022-01-02T00:00:00-05:00", "x")) == "2022-01-02T05:00:00Z"


def test_an_empty_baseline_names_the_baseline() -> None:
    s = Summarizer.from_request(TUTORIAL_SUMMARIZER)
    with pytest.raises(AssayConfigError) as caught:
        compute_baseline(np.array([]), s, 1_641_013_200_000, 1_641_099_600_000)
    assert caught.value.field == "baseline"
    assert caught.value.message == (
        "no inference log records between 2022-01-01T05:00:00Z and 2022-01-02T05:00:00Z"
    )
