"""Assays (v1) as typed models: the config sent to create or run one, and what comes back.

The config is the tutorial's, sent whole, explicit nulls included, because that is how the
tutorial sends it. Responses take the tutorial's shapes and today's (`assays/get_assay_results`
items have no name, pipeline_name or iopath, add bin_index, and give created_at as RFC 3339;
listings add workspace_id and may leave baseline, window and summarizer out); unknown fields are
kept like in every other model.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, RootModel

from bot.wallaroo.assay_v2_models import SummaryStatistics
from bot.wallaroo.inference_logs import InferenceLogRecord, InferenceLogRecordList
from bot.wallaroo.models import WallarooModel, none_as_empty_list


def _json_object_if_possible(value: Any) -> Any:
    # A baseline run answers summarizer_meta as a JSON string, run_interactive as an object.
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        return decoded if isinstance(decoded, dict) else value
    return value


SummarizerMeta = Annotated[dict[str, Any] | str, BeforeValidator(_json_object_if_possible)]


# The config: what create, run_interactive and run_interactive_baseline take.


class FixedBaseline(WallarooModel):
    pipeline: str
    model: str
    start_at: str  # ISO datetime; the baseline holds log records with time in [start_at, end_at)
    end_at: str


class Baseline(WallarooModel):
    Fixed: FixedBaseline


class AssayWindow(WallarooModel):
    pipeline: str
    model: str
    width: str = "24 hours"  # "<n> minutes|hours|days|weeks"
    start: str | None = None  # the server starts at the baseline's end
    interval: str | None = None  # the server steps by `width`


class SummarizerConfig(WallarooModel):
    type: str = "UnivariateContinuous"
    bin_mode: str = "Quantile"  # Quantile, Equal, Provided
    aggregation: str = "Density"  # Density, Cumulative, Edges
    metric: str = "PSI"  # PSI, MaxDiff, SumDiff
    num_bins: int = 5
    bin_weights: list[float] | None = None
    bin_width: float | None = None
    provided_edges: list[float] | None = None
    add_outlier_edges: bool = True


class AssayConfig(WallarooModel):
    id: int | None = None  # set to name an existing assay in an interactive run
    name: str
    pipeline_id: int
    pipeline_name: str
    active: bool = True
    status: str = "created"
    iopath: str  # "input 0 0" is feature 0 of the input tensor, "output 0 0" the first output
    # The tutorial's shapes, or today's as an assay lists them (`{"static": ...}`,
    # `{"calculated": ...}`; a window with `path`), passed back as they came.
    baseline: Baseline | dict[str, Any]
    window: AssayWindow | dict[str, Any]
    summarizer: SummarizerConfig = Field(default_factory=SummarizerConfig)
    warning_threshold: float | None = None
    alert_threshold: float
    run_until: str | None = None
    workspace_id: int
    model_insights_url: str | None = None

    @classmethod
    def for_pipeline(
        cls,
        *,
        name: str,
        workspace_id: int,
        pipeline_id: int,
        pipeline_name: str,
        model_name: str,
        iopath: str,
        baseline_start: str,
        baseline_end: str,
        width: str = "24 hours",
        window_start: str | None = None,
        interval: str | None = None,
        alert_threshold: float = 0.1,
        warning_threshold: float | None = None,
        num_bins: int = 5,
        bin_mode: str = "Quantile",
        metric: str = "PSI",
        run_until: str | None = None,
    ) -> AssayConfig:
        """An assay on one model of one pipeline, with baseline and window read from it."""
        return cls(
            name=name,
            pipeline_id=pipeline_id,
            pipeline_name=pipeline_name,
            iopath=iopath,
            baseline=Baseline(
                Fixed=FixedBaseline(
                    pipeline=pipeline_name,
                    model=model_name,
                    start_at=baseline_start,
                    end_at=baseline_end,
                )
            ),
            window=AssayWindow(
                pipeline=pipeline_name,
                model=model_name,
                width=width,
                start=window_start,
                interval=interval,
            ),
            summarizer=SummarizerConfig(num_bins=num_bins, bin_mode=bin_mode, metric=metric),
            warning_threshold=warning_threshold,
            alert_threshold=alert_threshold,
            run_until=run_until,
            workspace_id=workspace_id,
        )

    def to_request(self) -> dict[str, Any]:
        """The JSON body, with None values kept as explicit nulls (and extra fields kept)."""
        return self.model_dump(mode="json", by_alias=True)

    @property
    def in_tutorial_shape(self) -> bool:
        return isinstance(self.baseline, Baseline) or isinstance(self.window, AssayWindow)

    def to_today_request(self, created_at: str) -> dict[str, Any]:
        """The body in today's shapes (which the 2024.4-2026 spec requires): the baseline as a
        calculated fixed window, the window naming its path, and `created_at`."""
        body = self.to_request()
        body["baseline"] = {"calculated": {"fixed_window": self.baseline_window()}}
        if isinstance(self.window, AssayWindow):
            body["window"] = {
                "path": self.iopath,
                "pipeline_name": self.window.pipeline or self.pipeline_name,
                "width": self.window.width,
                "workspace_id": self.workspace_id,
                "model_name": self.window.model or None,
                "start": self.window.start,
                "interval": self.window.interval,
            }
        body["created_at"] = created_at
        return body

    def baseline_window(self) -> dict[str, Any]:
        """The baseline's window in today's `fixed_window` shape ({path, pipeline_name, width,
        workspace_id, start, model_name?}), which `assays/summarize` also takes. Today's
        `calculated.fixed_window` already is one; the tutorial's `Fixed` is converted."""
        raw = self.baseline if isinstance(self.baseline, dict) else self.baseline.model_dump()
        today = (raw.get("calculated") or {}).get("fixed_window")
        if isinstance(today, dict) and today.get("start"):
            return {"workspace_id": self.workspace_id, **today}
        fixed = raw.get("Fixed") or today or {}
        start, end = fixed.get("start_at"), fixed.get("end_at")
        minutes = 24 * 60
        if start and end:
            minutes = max(1, int((_instant(end) - _instant(start)).total_seconds() // 60))
        window: dict[str, Any] = {
            "path": self.iopath,
            "pipeline_name": fixed.get("pipeline") or self.pipeline_name,
            "width": f"{minutes} minutes",
            "workspace_id": self.workspace_id,
            "start": start,
        }
        if fixed.get("model"):
            window["model_name"] = fixed["model"]
        return window


def _instant(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


# Responses.


class Assay(WallarooModel):
    """One assay as assays/list shows it; baseline, window and summarizer in the config's shapes."""

    id: int
    name: str
    active: bool
    status: str
    warning_threshold: float | None = None
    alert_threshold: float
    pipeline_id: int
    pipeline_name: str
    last_run: str | None = None
    next_run: str | None = None
    run_until: str | None = None
    updated_at: str | None = None
    # In the configs' shapes; today's listing may leave them out (a re-run then needs them).
    baseline: dict[str, Any] = Field(default_factory=dict)
    window: dict[str, Any] = Field(default_factory=dict)
    summarizer: dict[str, Any] = Field(default_factory=dict)
    iopath: str | None = None  # newer servers list it; the tutorial's listing does not
    workspace_id: int | None = None
    workspace_name: str | None = None


class AssayActive(WallarooModel):
    id: int
    active: bool


class AssaySummary(SummaryStatistics):
    """A v1 summary: the statistics v2 nests under `statistics`, and the bins, side by side."""

    # The last is None (or "INFINITY") with outlier edges: right_outlier is unbounded.
    edges: list[float | str | None]
    edge_names: list[str]
    aggregated_values: list[float | None]
    aggregation: str
    start: str | None = None  # today's results may leave the window's bounds out
    end: str | None = None


class AssayResult(WallarooModel):
    """One window's comparison with the baseline; `status` is Ok, Warning, Alert or BaselineRun.
    The tutorial's items name the assay and pipeline; today's carry ids and a window_start."""

    assay_id: int | None = None
    name: str | None = None
    created_at: int | str | None = None  # epoch milliseconds (tutorial) or RFC 3339 (today)
    elapsed_millis: int | None = None
    pipeline_id: int | None = None
    pipeline_name: str | None = None
    iopath: str | None = None
    baseline_summary: AssaySummary
    window_summary: AssaySummary
    warning_threshold: float | None = None
    alert_threshold: float
    score: float
    scores: list[float]
    index: int | None = None
    summarizer_meta: SummarizerMeta = Field(default_factory=dict)
    status: str
    # Newer servers add these.
    id: int | None = None
    window_start: str | None = None
    analyzed_at: str | None = None
    bin_index: int | None = None
    summarizer: dict[str, Any] | None = None
    workspace_id: int | None = None
    workspace_name: str | None = None


# Bare JSON lists the client unwraps before handing objects out.


class AssayList(RootModel[Annotated[list[Assay], BeforeValidator(none_as_empty_list)]]):
    pass


class AssayResultList(RootModel[Annotated[list[AssayResult], BeforeValidator(none_as_empty_list)]]):
    pass


__all__ = ["InferenceLogRecord", "InferenceLogRecordList"]  # assays/get_baseline's, re-exported


class AssayCreated(WallarooModel):
    assay_id: int
