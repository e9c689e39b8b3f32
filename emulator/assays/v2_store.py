"""Stored v2 assays: scheduling one, and the results of each window completed on the clock.

As for v1 (schedule.py), runs happen when someone looks (get_results, get_next_run,
set_active), which gives the same stored results a timer would, with no task to manage.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from emulator.assays.config import AssayConfigError, format_time_z
from emulator.assays.schedule import next_window_after
from emulator.assays.v2_config import AssayBody, ScheduleBody, V2Config, check_config
from emulator.assays.v2_runs import (
    WindowResult,
    compute_baselines,
    dump_baselines,
    load_baselines,
    score_windows,
    summary_baseline,
    window_times,
)
from emulator.clock import iso_z

if TYPE_CHECKING:
    from emulator.state import EmulatorState


def schedule(state: EmulatorState, body: ScheduleBody) -> str:
    """Store the assay with its baseline computed now; returns its id. The caller has checked
    the data origin."""
    config = check_config(body)
    baselines = compute_baselines(state.logs, config)
    # Every field, unset ones as null: a real instance's `get` shows `scheduling.end`,
    # `data_origin.locations` and `bin_weights` as null rather than leaving them out.
    stored = body.model_dump(mode="json")
    stored["baseline"] = summary_baseline(config, baselines)
    origin = body.targeting.data_origin
    assay_id, now = str(uuid.uuid4()), iso_z(state.clock.now())
    state.db.execute(
        "INSERT INTO assays_v2 (id, name, workspace_id, pipeline_id, pipeline_name, active,"
        " config, baselines, created_at, updated_at, width_ms, next_window_ms)"
        " VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
        (
            assay_id,
            body.name,
            origin.workspace_id,
            origin.pipeline_id,
            origin.pipeline_name,
            json.dumps(stored),
            dump_baselines(baselines),
            now,
            now,
            config.width_ms,
            config.first_window_start_ms,
        ),
    )
    return assay_id


def stored_config(row: sqlite3.Row) -> V2Config:
    return check_config(ScheduleBody.model_validate_json(row["config"]))


def render_assay(row: sqlite3.Row) -> dict[str, Any]:
    """get's item: the schedule body (baseline as its Summary) and the row's own fields."""
    return {
        "id": row["id"],
        **json.loads(row["config"]),
        "active": bool(row["active"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _next_window(config: V2Config, first_ms: int, stop_ms: int) -> int:
    plan = config.plan(config.paths[0], None)
    return next_window_after(plan, first_ms, stop_ms)


def catch_up(state: EmulatorState, row: sqlite3.Row) -> None:
    """Score and store the windows this active assay completed since its last run."""
    now_ms = state.clock.now_ms()
    first = row["next_window_ms"]
    if not row["active"] or first + row["width_ms"] > now_ms:
        return  # the common case, decided without parsing the config
    config = stored_config(row)
    stop_ms = now_ms if config.end_ms is None else min(now_ms, config.end_ms)
    started = time.perf_counter()
    try:
        windows = score_windows(
            state.logs, config, load_baselines(row["baselines"]), first, stop_ms
        )
    except AssayConfigError:
        return  # e.g. an iopath the logs cannot serve (yet): try again at the next read
    with state.db.transaction():
        for window in windows:
            record = result_record(row, window, now_ms, started)
            state.db.execute(
                "INSERT OR IGNORE INTO assay_v2_results (assay_id, window_start_ms,"
                " window_end_ms, result) VALUES (?, ?, ?, ?)",
                (row["id"], window.start_ms, window.end_ms, json.dumps(record)),
            )
        # last_run is when the latest run was due (a window's end), not when it was computed:
        # real answers show {"last_run": "2025-04-10T19:37:00Z", "next_run": "…19:38:00Z"}.
        next_window = _next_window(config, first, stop_ms)
        last_run = format_time_z(next_window + config.width_ms - config.frequency_ms)
        state.db.execute(
            "UPDATE assays_v2 SET next_window_ms = ?, last_run = ? WHERE id = ?",
            (next_window, last_run, row["id"]),
        )


def result_record(
    row: sqlite3.Row | dict[str, Any], window: WindowResult, now_ms: int, started: float
) -> dict[str, Any]:
    """A result as get_results answers it, but for its `id` and workspace name (added when
    read, so a renamed workspace shows its new name)."""
    config = json.loads(row["config"]) if isinstance(row, sqlite3.Row) else row["config"]
    thresholds = config["targeting"]["iopath"][0].get("thresholds") or {}
    analyzed = iso_z(now_ms / 1000)
    return {
        "assay_id": row["id"],
        "analyzed_at": analyzed,
        "elapsed_millis": int((time.perf_counter() - started) * 1000),
        **window_times(window),
        "created_at": analyzed,
        "updated_at": analyzed,
        "pipeline_id": config["targeting"]["data_origin"]["pipeline_id"],
        "workspace_id": config["targeting"]["data_origin"]["workspace_id"],
        "alert_threshold": thresholds.get("alert"),
        "warning_threshold": thresholds.get("warning"),
        "status": window.status,
        "scores": window.scores,
        "summaries": window.summaries,
    }


def set_active(state: EmulatorState, row: sqlite3.Row, active: bool) -> None:
    if bool(row["active"]) == active:
        return
    if active:  # windows completed while paused are skipped, as v1 does
        config = stored_config(row)
        next_window = _next_window(config, row["next_window_ms"], state.clock.now_ms())
    else:
        catch_up(state, row)  # windows completed while it was active still count
        next_window = state.db.one(
            "SELECT next_window_ms FROM assays_v2 WHERE id = ?", (row["id"],)
        )["next_window_ms"]
    state.db.execute(
        "UPDATE assays_v2 SET active = ?, next_window_ms = ?, updated_at = ? WHERE id = ?",
        (int(active), next_window, iso_z(state.clock.now()), row["id"]),
    )


def next_run(row: sqlite3.Row) -> dict[str, Any]:
    """When the next window ends (None once past scheduling.end or while paused)."""
    next_end_ms = row["next_window_ms"] + row["width_ms"]
    end = json.loads(row["config"])["scheduling"].get("end")
    config_end = None if end is None else stored_config(row).end_ms
    done = not row["active"] or (config_end is not None and next_end_ms > config_end)
    return {"last_run": row["last_run"], "next_run": None if done else format_time_z(next_end_ms)}


def preview(state: EmulatorState, body: AssayBody, start_ms: int, end_ms: int) -> list[dict]:
    """Windows of the schedule's width every run_frequency from start_ms, ending by end_ms,
    scored without storing anything."""
    config = check_config(body)
    config = replace(config, first_run_ms=start_ms + config.width_ms, end_ms=end_ms)
    started = time.perf_counter()
    baselines = compute_baselines(state.logs, config)
    now_ms = state.clock.now_ms()
    stored = {"id": str(uuid.UUID(int=0)), "config": body.model_dump(mode="json")}
    return [
        result_record(stored, window, now_ms, started)
        for window in score_windows(state.logs, config, baselines, start_ms, end_ms)
    ]
