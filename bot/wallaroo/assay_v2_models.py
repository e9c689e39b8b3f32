"""Assays v2 (`/v2/api/assays/...`, the default since 2024.4) as typed models.

Enums are externally tagged (`{"Summary": {...}}`, `{"Quantile": 5}`), so the parts the bot only
passes along (baseline, scheduling, summarizer, window) stay plain dicts; what it reads (the
targeting, a result's scores and summaries, a summary's bins) is typed. Unknown fields are kept.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, RootModel

from bot.wallaroo.models import WallarooModel, none_as_empty_list


def _none_as_empty_dict(value: Any) -> Any:
    return {} if value is None else value


class Thresholds(WallarooModel):
    alert: float | None = None
    warning: float | None = None


class DataPath(WallarooModel):
    field: str  # "out.variable", "in.tensor"
    indexes: list[int] | None = None  # [0] for the first element of a list; None for a scalar
    thresholds: Thresholds = Field(default_factory=Thresholds)

    @property
    def key(self) -> str:
        """How results and baselines name this path: `out.variable.0` (the SDK's iopath)."""
        return f"{self.field}.{self.indexes[0]}" if self.indexes else self.field


class DataOrigin(WallarooModel):
    pipeline_id: int
    pipeline_name: str
    workspace_id: int
    workspace_name: str | None = None
    model_id: str | None = None
    locations: list[str] | None = None


class Targeting(WallarooModel):
    data_origin: DataOrigin
    iopath: list[DataPath]


class SummaryStatistics(WallarooModel):
    count: int
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    median: float | None = None
    std: float | None = None


class Bins(WallarooModel):
    mode: Any = None  # {"Quantile": 5}, {"Equal": n}, {"Provided": [...]}, "None"
    edges: list[float | str | None] = Field(default_factory=list)  # may hold "INFINITY"
    labels: list[str] = Field(default_factory=list)


class SeriesSummary(WallarooModel):
    """The binned summary of one field over a window (or of the baseline)."""

    name: str | None = None
    bins: Bins
    aggregated_values: list[float | None]
    aggregation: str | None = None
    statistics: SummaryStatistics | None = None
    start: str | None = None
    end: str | None = None


class ScoreData(WallarooModel):
    score: float
    scores: list[float] = Field(default_factory=list)
    bin_index: int | None = None


SummaryMap = Annotated[dict[str, SeriesSummary], BeforeValidator(_none_as_empty_dict)]
# A score is an object, or a string when scoring that field failed.
ScoreMap = Annotated[dict[str, ScoreData | str], BeforeValidator(_none_as_empty_dict)]


class AssayV2(WallarooModel):
    """One assay as `assays/get` lists it: the schedule body plus id, active and times."""

    id: str
    name: str
    active: bool
    created_at: str | None = None
    updated_at: str | None = None
    baseline: dict[str, Any] = Field(default_factory=dict)
    scheduling: dict[str, Any] = Field(default_factory=dict)
    summarizer: dict[str, Any] = Field(default_factory=dict)
    targeting: Targeting
    window: dict[str, Any] = Field(default_factory=dict)

    @property
    def path(self) -> DataPath:
        return self.targeting.iopath[0]

    @property
    def pipeline_name(self) -> str:
        return self.targeting.data_origin.pipeline_name

    @property
    def workspace_id(self) -> int:
        return self.targeting.data_origin.workspace_id

    def baseline_summary(self) -> SeriesSummary | None:
        """The baseline's summary of the monitored field, when the baseline is a Summary (as
        the server stores them); None for a Static window not summarised yet."""
        summaries = self.baseline.get("Summary")
        if not isinstance(summaries, dict) or not summaries:
            return None
        found = summaries.get(self.path.key) or next(iter(summaries.values()))
        return SeriesSummary.model_validate(found) if isinstance(found, dict) else None

    def schedule_body(self) -> dict[str, Any]:
        """The body `schedule` took (`preview_body` is what `preview` takes)."""
        fields = ("name", "baseline", "scheduling", "summarizer", "targeting", "window")
        return self.model_dump(mode="json", include=set(fields))

    def preview_body(self, start: str, end: str) -> dict[str, Any]:
        """The body `preview` takes: the schedule body without its name (the spec's
        PreviewBody has none), plus the span to score."""
        body = {k: v for k, v in self.schedule_body().items() if k != "name"}
        return body | {"preview_start": start, "preview_end": end}


class AssayResultV2(WallarooModel):
    """One window's scores; `status` is Ok, Warning or Alert. Preview results have no status
    (nor window_start, nor thresholds): those come from the assay."""

    id: int | None = None
    assay_id: str | None = None
    analyzed_at: str | None = None
    elapsed_millis: int | None = None
    window_start: str | None = None
    window_end: str
    created_at: str | None = None
    updated_at: str | None = None
    pipeline_id: int | None = None
    workspace_id: int | None = None
    workspace_name: str | None = None
    alert_threshold: float | None = None
    warning_threshold: float | None = None
    status: str | None = None
    scores: ScoreMap = Field(default_factory=dict)
    summaries: SummaryMap = Field(default_factory=dict)


class NextRun(WallarooModel):
    last_run: str | None = None
    next_run: str | None = None


class AssayV2List(RootModel[Annotated[list[AssayV2], BeforeValidator(none_as_empty_list)]]):
    pass


class AssayResultV2List(
    RootModel[Annotated[list[AssayResultV2], BeforeValidator(none_as_empty_list)]]
):
    pass


# What `schedule` takes, from the few things `assay create` asks for.

_UNITS = (("Week", 604_800), ("Day", 86_400), ("Hour", 3_600), ("Minute", 60))


def data_path(iopath: str) -> tuple[str, list[int] | None]:
    """A v2 field and indexes from `out.variable.0`, `out.variable`, or v1's `output variable 0`
    (`input` / `output` become `in` / `out`, as the SDK converts them)."""
    words = iopath.split()
    if len(words) >= 2 and words[0] in ("input", "output"):
        prefix = "in" if words[0] == "input" else "out"
        indexes = [int(words[2])] if len(words) > 2 else None
        return f"{prefix}.{words[1]}", indexes
    if len(words) != 1 or "." not in iopath:
        raise ValueError(f"iopath {iopath!r}: write it like out.variable.0")
    head, _, last = iopath.rpartition(".")
    if last.isdigit() and "." in head:
        return head, [int(last)]
    return iopath, None


def run_frequency(seconds: int) -> dict[str, Any]:
    for unit, size in _UNITS:
        if seconds % size == 0:
            return {"SimpleRunFrequency": {"quantity": seconds // size, "unit": unit}}
    raise ValueError(f"a window of {seconds} s is not a whole number of minutes")


def schedule_body(
    *,
    name: str,
    origin: DataOrigin,
    iopath: str,
    thresholds: Thresholds,
    baseline_start: str,
    baseline_end: str,
    width_seconds: int,
    first_run: str,
    bins: int = 5,
    metric: str = "PSI",
) -> dict[str, Any]:
    """A univariate assay on one field against a static baseline window, scored every window."""
    field, indexes = data_path(iopath)
    path = DataPath(field=field, indexes=indexes, thresholds=thresholds)
    return {
        "name": name,
        "baseline": {"Static": [baseline_start, baseline_end]},
        "scheduling": {"first_run": first_run, "run_frequency": run_frequency(width_seconds)},
        "summarizer": {
            "UnivariateContinuous": {
                "aggregation": "Density",
                "bin_mode": {"Quantile": bins},
                "metric": metric,
                "bin_weights": None,
            }
        },
        "targeting": {
            "data_origin": origin.model_dump(mode="json", exclude_none=True),
            "iopath": [path.model_dump(mode="json")],
        },
        "window": {"width": {"seconds": width_seconds}},
    }
