"""Assays (v1) as typed models: the config sent to create or run one, and what comes back.

The config is the tutorial's, sent whole, explicit nulls included, because that is how the
tutorial sends it. Responses take the tutorial's shapes and today's (`assays/get_assay_results`
items have no name, pipeline_name or iopath, add bin_index, and give created_at as RFC 3339;
listings add workspace_id and may leave baseline, window and summarizer out); unknown fields are
kept like in every other model.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, RootModel

from bot.wallaroo.models import WallarooModel


def _json_object_if_possible(value: Any) -> Any:
    # A baseline run answers summarizer_meta as a JSON string, run_interactive as an object.
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        return decoded if isinstance(decoded, dict) else value
    return value


def _none_as_empty_list(value: Any) -> Any:
    # A list endpoint with nothing to list may answer null or an empty body.
    return [] if value is None else value


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


class AssaySummary(WallarooModel):
    count: int
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    median: float | None = None
    std: float | None = None
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


class InferenceLogRecord(WallarooModel):
    check_failures: list[Any] = Field(default_factory=list)
    elapsed: int
    model_name: str
    model_version: str
    original_data: dict[str, Any]
    outputs: list[Any]
    pipeline_name: str
    time: int  # epoch milliseconds
    shadow_data: dict[str, Any] | None = None


# Bare JSON lists the client unwraps before handing objects out.


class AssayList(RootModel[Annotated[list[Assay], BeforeValidator(_none_as_empty_list)]]):
    pass


class AssayResultList(
    RootModel[Annotated[list[AssayResult], BeforeValidator(_none_as_empty_list)]]
):
    pass


class InferenceLogRecordList(
    RootModel[Annotated[list[InferenceLogRecord], BeforeValidator(_none_as_empty_list)]]
):
    pass


class AssayCreated(WallarooModel):
    assay_id: int
