"""Live traffic: a pipeline's clients keep sending requests, and whatever is deployed answers.

A traffic source is a fixed stream of requests (when, which inputs: a `RequestPlan`, drawn once
from a seeded generator, so it is the same whenever it is read) and how far it has been served.
Before any read of the pipeline's log (emulator/inference_logs.py's hook) and before any change
of its deployment (routes/pipelines.py), `Traffic.catch_up` serves the requests due since then,
up to the emulator's clock and the plan's end: through the real ONNX model of the pipeline
version deployed and Running over that span, and none while it is undeployed, starting or
failed. So rolling a bad model version back changes the predictions logged from then on, as on
a real instance, and the records do not depend on when they are read. Each chunk names the
pipeline version and pod that answered it (inference_logs.Origin), and a model of another
shape is logged beside the first; one that cannot take the requests logs nothing, and never
fails the deploy or read that caught it up.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emulator.clock import Clock
from emulator.db import Database
from emulator.deployments import pod_name
from emulator.errors import ApiError
from emulator.inference_logs import InferenceLogStore, LogColumns, Origin
from emulator.model_runner import ModelRunner

DAY_MS = 86_400_000
INPUT_SHIFT = 1.5  # standard deviations added to feature 0 by the input-drift story


@dataclass(frozen=True)
class RequestPlan:
    """The requests clients send to one pipeline, sorted by time."""

    start_ms: int
    end_ms: int  # the cap: no requests from here on
    times: np.ndarray  # int64 epoch ms
    inputs: np.ndarray  # float64, one row per request
    elapsed: np.ndarray  # int64 ns the engine takes over each

    def between(self, start_ms: int, end_ms: int) -> slice:
        lo, hi = np.searchsorted(self.times, [start_ms, end_ms], side="left")
        return slice(int(lo), int(hi))


def plan_requests(
    first_ms: int, days: int, per_day: int, features: int, seed: int, shift_from_ms: int | None
) -> RequestPlan:
    """`per_day` requests a day on average over `days` from `first_ms`, inputs standard normal,
    feature 0 shifted by `INPUT_SHIFT` from `shift_from_ms` on (None: never)."""
    rng = np.random.default_rng(seed)
    n = days * per_day
    times = first_ms + np.sort(rng.integers(0, days * DAY_MS, n))
    inputs = rng.normal(size=(n, features))
    if shift_from_ms is not None:
        inputs[times >= shift_from_ms, 0] += INPUT_SHIFT
    elapsed = rng.integers(90_000, 180_000, n).astype(np.int64)
    return RequestPlan(first_ms, first_ms + days * DAY_MS, times.astype(np.int64), inputs, elapsed)


@dataclass
class _Source:
    pipeline_id: int
    plan: RequestPlan
    served_until_ms: int


@dataclass(frozen=True)
class _Serving:
    """What a deployment answers with, from when it is Running: its first model (as the
    emulator's inference runs; the demo's pipelines have one step)."""

    model: dict[str, Any]
    path: Path
    running_from_ms: int
    pipeline_version: str
    deployment_id: int


class Traffic:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        logs: InferenceLogStore,
        models: ModelRunner,
        startup_seconds: float,
    ) -> None:
        self._db, self._clock, self._logs, self._models = db, clock, logs, models
        self._startup_ms = int(startup_seconds * 1000)
        self._sources: dict[str, _Source] = {}
        # Tests read logs from their own thread while the server serves: one catch-up at a time.
        self._lock = threading.RLock()
        logs.before_read = self.catch_up

    def start(self, pipeline_name: str, pipeline_id: int, plan: RequestPlan) -> None:
        """Send `plan`'s requests to the pipeline. Those already due were answered by what is
        deployed now (as if it had run since the plan's start: the demo's history)."""
        with self._lock:
            now_ms = min(self._clock.now_ms(), plan.end_ms)
            self._sources[pipeline_name] = _Source(pipeline_id, plan, now_ms)
            serving = self._serving(pipeline_id)
            if serving is not None:
                self._serve(pipeline_name, plan.between(plan.start_ms, now_ms), serving)

    def clear(self) -> None:
        with self._lock:
            self._sources.clear()

    def catch_up(self, pipeline_name: str) -> None:
        """Serve the requests due since the last catch-up with what is deployed now."""
        with self._lock:
            source = self._sources.get(pipeline_name)
            if source is None:
                return
            end_ms = min(self._clock.now_ms(), source.plan.end_ms)
            start_ms = source.served_until_ms
            if end_ms <= start_ms:
                return
            source.served_until_ms = end_ms
            serving = self._serving(source.pipeline_id)
            if serving is None:
                return
            span = source.plan.between(max(start_ms, serving.running_from_ms), end_ms)
            self._serve(pipeline_name, span, serving)

    def _serving(self, pipeline_id: int) -> _Serving | None:
        row = self._db.one(
            "SELECT d.*, v.version AS pipeline_version FROM deployments d"
            " JOIN pipeline_versions v ON v.id = d.pipeline_version_id"
            " WHERE d.pipeline_id = ? AND d.active = 1",
            (pipeline_id,),
        )
        models = json.loads(row["models"]) if row is not None else []
        if row is None or row["error"] or not models:
            return None
        path = self._model_path(models[0]["version"])
        if path is None:
            return None
        return _Serving(
            models[0],
            path,
            int(row["started_at"] * 1000) + self._startup_ms,
            row["pipeline_version"],
            row["id"],
        )

    def _model_path(self, model_version: str) -> Path | None:
        row: sqlite3.Row | None = self._db.one(
            "SELECT file_path FROM model_versions WHERE model_version = ?", (model_version,)
        )
        return Path(row["file_path"]) if row is not None else None

    def _serve(self, pipeline_name: str, span: slice, serving: _Serving) -> None:
        plan = self._sources[pipeline_name].plan
        inputs = plan.inputs[span]
        if not len(inputs):
            return
        model = serving.model
        log = self._logs.unhooked(pipeline_name)
        pod = pod_name("engine", serving.deployment_id)
        try:
            outputs = self._models.run(model["sha"], serving.path, inputs)
            codes = (
                log.model_code(model["name"], model["version"]),
                log.origin_code(Origin(serving.pipeline_version, pod)),
            )
            rows = len(inputs)
            log.append(
                LogColumns(
                    plan.times[span],
                    inputs,
                    outputs,
                    plan.elapsed[span],
                    *(np.full(rows, code, np.int32) for code in codes),
                )
            )
        except ApiError:
            # A model that cannot take these inputs answers every request with an error, and
            # errors are not logged; nor is a deploy or a log read refused because of them.
            return
