"""One view of an assay result, whichever generation produced it: what handlers, alert messages
and charts read, so none of them is written twice.

v1 items (the tutorial's `assays/get_results` and today's `assays/get_assay_results`) carry both
summaries; a v2 result carries the window's summary per field, and the baseline's summary and
the thresholds live in its assay (newer servers copy the thresholds into the result).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from bot.wallaroo.assay_models import AssayResult
from bot.wallaroo.assay_v2_models import AssayResultV2, AssayV2, ScoreData
from bot.wallaroo.errors import WallarooBadResponse

MOVED_BINS_SHOWN = 3


class MovedBin(BaseModel):
    name: str
    baseline: float
    window: float


class DriftResult(BaseModel):
    """One window compared with the baseline. `status`: Ok, Warning, Alert (v1 also BaselineRun)."""

    assay_id: str
    generation: Literal["v1", "v2"]
    status: str
    score: float
    window_start: str  # ISO 8601, as the server wrote it
    window_end: str | None = None
    warning_threshold: float | None = None
    alert_threshold: float | None = None
    bin_names: list[str] = Field(default_factory=list)
    baseline_values: list[float] = Field(default_factory=list)
    window_values: list[float] = Field(default_factory=list)
    assay_name: str | None = None  # v1 tutorial items say; otherwise the caller knows
    pipeline_name: str | None = None
    # Its pipeline's workspace: v2 assays say, as do today's v1 items; the 2022 tutorial's not.
    workspace_id: int | None = None

    @property
    def started(self) -> datetime:
        return parse_time(self.window_start)

    def moved_bins(self, count: int = MOVED_BINS_SHOWN) -> list[MovedBin]:
        """The bins whose share moved most between the baseline and this window."""
        moved = [
            MovedBin(name=name, baseline=b, window=w)
            for name, b, w in zip(
                self.bin_names, self.baseline_values, self.window_values, strict=False
            )
        ]
        return sorted(moved, key=lambda b: abs(b.window - b.baseline), reverse=True)[:count]


def from_v1(result: AssayResult, assay_id: str | int, path: str) -> DriftResult:
    """A v1 item, either shape; `path` names the call for a clear error."""
    start = result.window_start or result.window_summary.start
    if not start:
        raise WallarooBadResponse("window_start: missing (and no window_summary.start)", path=path)
    return DriftResult(
        assay_id=str(result.assay_id if result.assay_id is not None else assay_id),
        generation="v1",
        status=result.status,
        score=result.score,
        window_start=start,
        window_end=result.window_summary.end,
        warning_threshold=result.warning_threshold,
        alert_threshold=result.alert_threshold,
        bin_names=list(result.baseline_summary.edge_names),
        baseline_values=_values(result.baseline_summary.aggregated_values),
        window_values=_values(result.window_summary.aggregated_values),
        assay_name=result.name,
        pipeline_name=result.pipeline_name,
        workspace_id=result.workspace_id,
    )


def from_v2(result: AssayResultV2, assay: AssayV2) -> DriftResult | None:
    """A v2 result (stored or previewed) of `assay`; None when scoring its field failed (the
    server then stores a result without a score, which the SDK leaves out too)."""
    key = assay.path.key
    score = result.scores.get(key)
    if score is None and len(result.scores) == 1:
        score = next(iter(result.scores.values()))  # a server naming the path differently
    if not isinstance(score, ScoreData):
        return None
    summary = result.summaries.get(key) or next(iter(result.summaries.values()), None)
    baseline = assay.baseline_summary()
    thresholds = assay.path.thresholds
    alert = _first(result.alert_threshold, thresholds.alert)
    warning = _first(result.warning_threshold, thresholds.warning)
    return DriftResult(
        assay_id=assay.id,
        generation="v2",
        status=result.status or status_for(score.score, warning, alert),
        score=score.score,
        window_start=result.window_start or _window_start(result, assay, summary),
        window_end=result.window_end,
        warning_threshold=warning,
        alert_threshold=alert,
        bin_names=list(summary.bins.labels) if summary else [],
        baseline_values=_values(baseline.aggregated_values) if baseline else [],
        window_values=_values(summary.aggregated_values) if summary else [],
        assay_name=assay.name,
        pipeline_name=assay.pipeline_name,
        workspace_id=assay.workspace_id,
    )


def status_for(score: float, warning: float | None, alert: float | None) -> str:
    """What a stored result would say, for previews that say nothing."""
    if alert is not None and score >= alert:
        return "Alert"
    if warning is not None and score >= warning:
        return "Warning"
    return "Ok"


def parse_time(moment: str) -> datetime:
    """An instant from RFC 3339 text (`Z` or any offset); text without an offset is UTC, so
    instants from different answers always compare."""
    parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def window_seconds(assay: AssayV2) -> float | None:
    width = assay.window.get("width")
    seconds = width.get("seconds") if isinstance(width, dict) else None
    return float(seconds) if isinstance(seconds, int | float) else None


def _window_start(result: AssayResultV2, assay: AssayV2, summary: object) -> str:
    start = getattr(summary, "start", None)
    if start:
        return start
    seconds = window_seconds(assay)
    if seconds is None:
        return result.window_end
    return (parse_time(result.window_end) - timedelta(seconds=seconds)).isoformat()


def _values(values: list[float | None]) -> list[float]:
    return [v or 0.0 for v in values]


def _first(*values: float | None) -> float | None:
    return next((v for v in values if v is not None), None)
