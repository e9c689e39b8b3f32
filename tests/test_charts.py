"""The drift chart as a reader meets it: labelled axes, date labels that do not overlap, and in
the console a new file for every chart, run after run."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from bot.chat.console import ConsoleChat
from bot.wallaroo import DriftResult
from handlers.render.charts import drift_chart, drift_figure

BINS = ["left_outlier", "q_20", "q_40", "q_60", "q_80", "q_100", "right_outlier"]


def results(count: int, every: timedelta) -> list[DriftResult]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return [
        DriftResult(
            assay_id="1",
            generation="v1",
            status="Ok" if i < count - 1 else "Alert",
            score=0.01 if i < count - 1 else 1.8,
            window_start=(start + i * every).isoformat(),
            warning_threshold=0.05,
            alert_threshold=0.1,
            bin_names=BINS,
            baseline_values=[0, 0.2, 0.2, 0.2, 0.2, 0.2, 0],
            window_values=[0, 0.02, 0.05, 0.1, 0.3, 0.43, 0.1],
        )
        for i in range(count)
    ]


def test_both_axes_say_what_they_show() -> None:
    scores, bins = drift_figure(results(30, timedelta(days=1)), "example assay").axes
    assert (scores.get_xlabel(), scores.get_ylabel()) == ("window start (UTC)", "score")
    assert (bins.get_xlabel(), bins.get_ylabel()) == ("bin", "share of records")


@pytest.mark.parametrize(
    ("count", "every"),
    [
        (2, timedelta(days=1)),
        (30, timedelta(days=1)),
        (31, timedelta(days=1)),
        (90, timedelta(days=1)),
        (48, timedelta(hours=1)),
        (90, timedelta(hours=6)),
    ],
    ids=["2 days", "30 days", "31 days", "90 days", "48 hours", "90 x 6 hours"],
)
def test_date_labels_never_overlap(count: int, every: timedelta) -> None:
    figure = drift_figure(results(count, every), "example assay")
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    scores = figure.axes[0]
    labels = [t for t in scores.get_xticklabels() if t.get_visible() and t.get_text()]
    assert len(labels) >= 2
    boxes = sorted((t.get_window_extent(renderer) for t in labels), key=lambda b: b.x0)
    for left, right in pairwise(boxes):
        assert left.x1 < right.x0, [t.get_text() for t in labels]


def test_the_chart_is_a_png() -> None:
    assert drift_chart(results(30, timedelta(days=1)), "example assay")[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_console_chart_is_a_new_file(tmp_path: Path) -> None:
    async def upload_twice_in_two_runs() -> None:
        with (tmp_path / "out.txt").open("a") as out:
            for _run in range(2):  # a new ConsoleChat is a new console process
                chat = ConsoleChat(stream=out, file_dir=tmp_path / "c")
                for _ in range(2):
                    await chat.upload("#console", b"png", "drift.png", "drift", thread_ts=None)

    asyncio.run(upload_twice_in_two_runs())
    saved = sorted(p.name for p in (tmp_path / "c").iterdir())
    assert len(saved) == 4 and all(name.endswith("-drift.png") for name in saved), saved
