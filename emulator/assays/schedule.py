"""Scheduled assay runs: each active assay stores one result per window completed on the clock.

Runs happen when someone looks (results, lists, activation changes) rather than on a timer:
the emulator's clock jumps, and scoring every window up to "now" at the next read gives the
same stored results a timer would have, with no background task to manage.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import TYPE_CHECKING

from emulator.assays.config import AssayConfigError
from emulator.assays.plan import AssayPlan, StoredAssayRequest, plan_assay
from emulator.assays.runs import AssayIdentity, result_record, run_baseline, run_windows
from emulator.clock import iso

if TYPE_CHECKING:
    from emulator.state import EmulatorState


def stored_plan(row: sqlite3.Row) -> tuple[StoredAssayRequest, AssayPlan]:
    request = StoredAssayRequest.model_validate_json(row["config"])
    return request, plan_assay(request)


def next_window_after(plan: AssayPlan, first_start_ms: int, stop_ms: int) -> int:
    """The start of the first window that is not complete at stop_ms."""
    complete = max(0, (stop_ms - first_start_ms - plan.width_ms) // plan.interval_ms + 1)
    return first_start_ms + complete * plan.interval_ms


def catch_up(state: EmulatorState, row: sqlite3.Row) -> None:
    """Score and store the windows this active assay completed since its last run."""
    if not row["active"]:
        return
    request, plan = stored_plan(row)
    now_ms = state.clock.now_ms()
    stop_ms = now_ms if plan.run_until_ms is None else min(now_ms, plan.run_until_ms)
    first = row["next_window_ms"]
    if first + plan.width_ms > stop_ms:
        return
    started = time.perf_counter()
    try:
        baseline = run_baseline(state.logs, row["pipeline_name"], plan)
        windows = run_windows(state.logs, row["pipeline_name"], plan, baseline, first, stop_ms)
    except AssayConfigError:
        # No baseline data yet, or an iopath the logs cannot serve: try again at the next read.
        return
    who = AssayIdentity(
        row["id"], row["name"], row["pipeline_id"], row["pipeline_name"], request.iopath
    )
    with state.db.transaction():
        for window in windows:
            result = result_record(who, plan, baseline, window, now_ms, started)
            state.db.execute(
                "INSERT OR IGNORE INTO assay_results (assay_id, window_start_ms, result)"
                " VALUES (?, ?, ?)",
                (row["id"], window.start_ms, json.dumps(result)),
            )
        state.db.execute(
            "UPDATE assays SET next_window_ms = ?, last_run = ? WHERE id = ?",
            (next_window_after(plan, first, stop_ms), iso(state.clock.now()), row["id"]),
        )


def catch_up_pipeline(state: EmulatorState, pipeline_id: int) -> None:
    for row in state.db.all(
        "SELECT * FROM assays WHERE pipeline_id = ? AND active = 1", (pipeline_id,)
    ):
        catch_up(state, row)


def skip_inactive_period(state: EmulatorState, row: sqlite3.Row) -> int:
    """On re-activation: the next window start, past the windows completed while inactive."""
    _, plan = stored_plan(row)
    return next_window_after(plan, row["next_window_ms"], state.clock.now_ms())
