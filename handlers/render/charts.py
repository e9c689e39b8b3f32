"""The chart on a drift alert: score over time against the thresholds, and the latest window's
bins against the baseline. matplotlib's object API on the Agg canvas: no pyplot, whose global
state is not safe from the several threads the poller may chart in at once."""

from __future__ import annotations

import io
from datetime import UTC
from typing import TYPE_CHECKING

from bot.wallaroo import DriftResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_POINTS = 90


def drift_chart(results: list[DriftResult], title: str) -> bytes:
    """A PNG of the results (oldest first, either generation) with the latest one's bins."""
    out = io.BytesIO()
    drift_figure(results, title).savefig(out, format="png")
    return out.getvalue()


def drift_figure(results: list[DriftResult], title: str) -> Figure:
    """The chart as a matplotlib figure, laid out and ready to save."""
    # Imported on the first chart, not at start: matplotlib and numpy are a fifth of the
    # process's memory, and a bot that never sees drift never needs them.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    shown = results[-MAX_POINTS:]
    latest = shown[-1]
    figure = Figure(figsize=(10, 4), dpi=100)
    FigureCanvasAgg(figure)
    scores_axis, bins_axis = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    times = [r.started for r in shown]
    scores_axis.plot(times, [r.score for r in shown], marker=".", color="#1d3557")
    if latest.warning_threshold is not None:
        scores_axis.axhline(
            latest.warning_threshold, color="#e9c46a", linestyle="--", label="warning"
        )
    if latest.alert_threshold is not None:
        scores_axis.axhline(latest.alert_threshold, color="#e63946", linestyle="--", label="alert")
    scores_axis.set_title(f"{title}: score per window")
    scores_axis.set_xlabel("window start (UTC)")
    scores_axis.set_ylabel("score")
    # As many date labels as fit, each only as long as it must be ("Dec", "03", "06:00"),
    # so neighbours never overlap whatever the span.
    locator = AutoDateLocator(tz=UTC, minticks=3, maxticks=7)
    scores_axis.xaxis.set_major_locator(locator)
    scores_axis.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=UTC))
    scores_axis.legend(loc="upper left")

    names = latest.bin_names
    positions = range(len(names))
    # A v2 baseline not summarised yet has no bins to show: its bars stay at zero.
    baseline = (latest.baseline_values + [0.0] * len(names))[: len(names)]
    window = (latest.window_values + [0.0] * len(names))[: len(names)]
    bins_axis.bar([p - 0.2 for p in positions], baseline, width=0.4, label="baseline")
    bins_axis.bar([p + 0.2 for p in positions], window, width=0.4, label="latest window")
    bins_axis.set_xticks(list(positions), names, rotation=45, ha="right")
    bins_axis.set_title("latest window against the baseline")
    bins_axis.set_xlabel("bin")
    bins_axis.set_ylabel("share of records")
    bins_axis.legend()
    figure.tight_layout()
    return figure
