"""An assay's summarizer settings and the small text formats of its config (iopath, durations,
datetimes), checked so that a bad request names the field at fault."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

BIN_MODES = ("Quantile", "Equal", "Provided")
AGGREGATIONS = ("Density", "Cumulative", "Edges")
# The API's short names, and the tutorial's long spellings of the same metrics.
METRICS = {
    "PSI": "PSI",
    "MaxDiff": "MaxDiff",
    "SumDiff": "SumDiff",
    "Maximum Difference of Bins": "MaxDiff",
    "Sum of the Difference of Bins": "SumDiff",
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNIT_MS = {"minute": 60_000, "hour": 3_600_000, "day": 86_400_000, "week": 604_800_000}
_DURATION = re.compile(r"\s*(\d+)\s*(minute|hour|day|week)s?\s*", re.IGNORECASE)
_IOPATH = re.compile(r"\s*(input|output)\s+(\d+)\s+(\d+)\s*")


class AssayConfigError(ValueError):
    """A bad assay config; `field` is the dotted path of the culprit, e.g. "window.width"."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _is_number(value: Any) -> bool:
    # bool is an int subclass, but `true` is never a sensible edge or weight.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _numbers(value: Any, field: str) -> tuple[float, ...]:
    if not isinstance(value, list | tuple) or not all(_is_number(v) for v in value):
        raise AssayConfigError(field, "expected a list of numbers")
    return tuple(float(v) for v in value)


def _choice(d: dict, key: str, allowed: tuple[str, ...] | dict[str, str]) -> str:
    value = d.get(key)
    if not isinstance(value, str) or value not in allowed:
        names = ", ".join(repr(a) for a in allowed)
        raise AssayConfigError(f"summarizer.{key}", f"expected one of {names}, got {value!r}")
    return allowed[value] if isinstance(allowed, dict) else value


@dataclass(frozen=True)
class Summarizer:
    bin_mode: str
    aggregation: str
    metric: str
    num_bins: int
    add_outlier_edges: bool
    provided_edges: tuple[float, ...] | None
    bin_weights: tuple[float, ...] | None
    type: str = "UnivariateContinuous"

    @property
    def bin_count(self) -> int:
        """Bins in a summary, counting the two outlier bins when they are on."""
        return self.num_bins + 2 if self.add_outlier_edges else self.num_bins

    @classmethod
    def from_request(cls, d: Any) -> Summarizer:
        if not isinstance(d, dict):
            raise AssayConfigError("summarizer", "expected an object")
        kind = d.get("type", "UnivariateContinuous")
        if kind != "UnivariateContinuous":
            raise AssayConfigError("summarizer.type", "expected 'UnivariateContinuous'")
        bin_mode = _choice(d, "bin_mode", BIN_MODES)
        aggregation = _choice(d, "aggregation", AGGREGATIONS)
        metric = _choice(d, "metric", METRICS)
        num_bins = d.get("num_bins")
        if not isinstance(num_bins, int) or isinstance(num_bins, bool) or num_bins < 1:
            raise AssayConfigError("summarizer.num_bins", "expected an integer >= 1")
        outliers = d.get("add_outlier_edges", True)
        if not isinstance(outliers, bool):
            raise AssayConfigError("summarizer.add_outlier_edges", "expected true or false")
        edges = _provided_edges(d.get("provided_edges"), bin_mode, num_bins)
        summarizer = cls(bin_mode, aggregation, metric, num_bins, outliers, edges, None)
        weights = d.get("bin_weights")
        if weights is None:
            return summarizer
        weights = _numbers(weights, "summarizer.bin_weights")
        if len(weights) != summarizer.bin_count:
            raise AssayConfigError(
                "summarizer.bin_weights",
                f"expected {summarizer.bin_count} weights (one per bin, outlier bins included),"
                f" got {len(weights)}",
            )
        return cls(bin_mode, aggregation, metric, num_bins, outliers, edges, weights)

    def meta(self) -> dict[str, Any]:
        """The result's `summarizer_meta`."""
        return {
            "type": self.type,
            "bin_mode": self.bin_mode,
            "aggregation": self.aggregation,
            "metric": self.metric,
            "num_bins": self.num_bins,
            "bin_weights": None if self.bin_weights is None else list(self.bin_weights),
            "provided_edges": None if self.provided_edges is None else list(self.provided_edges),
        }


def _provided_edges(value: Any, bin_mode: str, num_bins: int) -> tuple[float, ...] | None:
    # As in Wallaroo's SDK: the edges are the bins' upper bounds, num_bins of them, or one more
    # whose lowest is the left outlier bin's bound; they are kept sorted.
    field = "summarizer.provided_edges"
    if bin_mode != "Provided":
        if value is not None:
            raise AssayConfigError(field, f"only allowed with bin_mode 'Provided', not {bin_mode}")
        return None
    if value is None:
        raise AssayConfigError(field, "required with bin_mode 'Provided'")
    edges = _numbers(value, field)
    if len(edges) not in (num_bins, num_bins + 1):
        raise AssayConfigError(
            field, f"expected num_bins ({num_bins}) or num_bins + 1 edges, got {len(edges)}"
        )
    return tuple(sorted(edges))


def parse_iopath(text: Any) -> tuple[str, int, int]:
    """ "output 0 0" -> ("output", 0, 0): the tensor and the element within it."""
    match = _IOPATH.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise AssayConfigError(
            "iopath", "expected 'input|output <index> <index>', e.g. 'output 0 0'"
        )
    return match[1], int(match[2]), int(match[3])


def parse_duration_ms(text: Any, field: str) -> int:
    """ "24 hours" -> 86_400_000."""
    match = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if match is None or int(match[1]) == 0:
        raise AssayConfigError(
            field, "expected e.g. '24 hours': a positive whole number of minutes|hours|days|weeks"
        )
    return int(match[1]) * _UNIT_MS[match[2].lower()]


def parse_time_ms(text: Any, field: str) -> int:
    """An ISO 8601 datetime ("+00:00", "-05:00", "Z" or no zone, meaning UTC) -> epoch ms."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise AssayConfigError(
            field, "expected an ISO 8601 datetime, e.g. '2022-01-01T00:00:00+00:00'"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # Integer arithmetic: a float timestamp can be off by a millisecond.
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def format_time_z(ms: int) -> str:
    """Epoch ms -> "2022-01-01T05:00:00Z" (milliseconds shown only when there are some)."""
    moment = _EPOCH + timedelta(milliseconds=int(ms))
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond // 1000:03d}Z" if moment.microsecond else f"{text}Z"
