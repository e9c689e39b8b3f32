"""`assay run ID` (score every window now, storing nothing) and `assay baseline ID`, for both
generations: v1 runs interactively and summarises its baseline (run_interactive_baseline, or
today's `assays/summarize`); v2 previews and reads the baseline summary stored in the assay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.wallaroo import (
    Assay,
    AssayConfig,
    AssaySummary,
    AssayV2,
    DriftResult,
    WallarooClient,
    WallarooNotFound,
)
from bot.wallaroo.drift import from_v1, from_v2, parse_time, window_seconds
from handlers.commands.assay_lookup import FoundAssay
from handlers.render.mrkdwn import escape
from handlers.render.times import when

RUN_WINDOWS_MAX = 90  # a preview covers at most this many windows back from now


async def run_now(client: WallarooClient, found: FoundAssay) -> list[DriftResult]:
    """Every window the data allows, scored now, oldest first."""
    if found.v2 is not None:
        return await _preview(client, found.v2)
    assert found.v1 is not None
    results = await client.run_interactive(config_of(found))
    return [from_v1(r, found.id, "assays/run_interactive") for r in results]


async def baseline_rows(client: WallarooClient, found: FoundAssay) -> list[str]:
    if found.v2 is not None:
        return _v2_baseline_rows(found.v2)
    summary = await _v1_baseline(client, config_of(found))
    return [
        _records_row(summary.count, summary.start, summary.end),
        f"min {_num(summary.min)}  ·  median {_num(summary.median)}  ·  max {_num(summary.max)}"
        f"  ·  mean {_num(summary.mean)}  ·  std {_num(summary.std)}",
        "bins " + ", ".join(escape(n) for n in summary.edge_names),
    ]


def config_of(found: FoundAssay) -> AssayConfig:
    """The v1 assay's config as listed, to run it interactively."""
    assay = found.v1
    assert assay is not None
    return AssayConfig.model_validate(
        {
            "id": assay.id,
            "name": assay.name,
            "pipeline_id": assay.pipeline_id,
            "pipeline_name": assay.pipeline_name,
            "active": assay.active,
            "status": assay.status,
            "iopath": assay.iopath or assay.window.get("path") or "output 0 0",
            "baseline": assay.baseline,
            "window": assay.window,
            "summarizer": assay.summarizer,
            "warning_threshold": assay.warning_threshold,
            "alert_threshold": assay.alert_threshold,
            "run_until": assay.run_until,
            "workspace_id": found.workspace_id,
            # Today's body (a window with `path`) requires it; the tutorial's has none.
            **({"created_at": _created_at(assay)} if "path" in assay.window else {}),
        }
    )


def _created_at(assay: Assay) -> str:
    listed = getattr(assay, "created_at", None)
    return listed if isinstance(listed, str) and listed else datetime.now(UTC).isoformat()


async def _v1_baseline(client: WallarooClient, config: AssayConfig) -> AssaySummary:
    baseline = config.baseline if isinstance(config.baseline, dict) else {}
    if isinstance(baseline.get("static"), dict):  # today's assays keep the summary itself
        return AssaySummary.model_validate(baseline["static"])
    try:
        return (await client.run_interactive_baseline(config)).baseline_summary
    except WallarooNotFound:
        pass  # gone from today's API: the SDK summarises instead
    summarizer = config.summarizer.model_dump(mode="json")
    return await client.summarize(summarizer, {"fixed_window": config.baseline_window()})


async def _preview(client: WallarooClient, assay: AssayV2) -> list[DriftResult]:
    seconds = window_seconds(assay) or 86_400.0
    # The server's clock decides what "now" holds; its last run tells where it is.
    last_run = (await client.get_assay_v2_next_run(assay.id)).last_run
    end = datetime.now(UTC)
    if last_run:
        end = max(end, parse_time(last_run))
    earliest = end - timedelta(seconds=seconds * RUN_WINDOWS_MAX)
    start = max(earliest, _baseline_end(assay) or earliest)
    previews = await client.preview_assay_v2(assay, start, end)
    views = (from_v2(r, assay) for r in previews)
    return [v for v in views if v is not None]


def _baseline_end(assay: AssayV2) -> datetime | None:
    summary = assay.baseline_summary()
    if summary is not None and summary.end:
        return parse_time(summary.end)
    static = assay.baseline.get("Static")
    if isinstance(static, list) and len(static) == 2 and isinstance(static[1], str):
        return parse_time(static[1])
    return None


def _v2_baseline_rows(assay: AssayV2) -> list[str]:
    summary = assay.baseline_summary()
    static = assay.baseline.get("Static")
    if summary is None:
        if isinstance(static, list) and len(static) == 2:
            return [
                f"Inferences from {_at(static[0])} to {_at(static[1])} (summarised when it runs)"
            ]
        kind = next(iter(assay.baseline), "unknown")
        return [f"A {escape(kind)} baseline, which this bot cannot show."]
    stats = summary.statistics
    rows = []
    if stats is not None:
        rows += [
            _records_row(stats.count, summary.start, summary.end),
            f"min {_num(stats.min)}  ·  median {_num(stats.median)}  ·  max {_num(stats.max)}"
            f"  ·  mean {_num(stats.mean)}  ·  std {_num(stats.std)}",
        ]
    rows.append("bins " + ", ".join(escape(label) for label in summary.bins.labels))
    return rows


def _records_row(count: int, start: str | None, end: str | None) -> str:
    return f"{count} records from {_at(start)} to {_at(end)}"


def _at(moment: object) -> str:
    """A time from Wallaroo as replies show times, escaped (an unreadable one is shown as is)."""
    return escape(when(moment if isinstance(moment, str) else None))


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"
