"""pipelines/get_logs (today's API only): a pipeline's inference log, a page at a time.

The records are today's pandas records (as inference answers them), read from the emulator's
log store (what inference and the control API's bulk load wrote). The next page's cursor comes
in the `x-iteration-cursor` header, absent on the last page.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from datetime import datetime
from pathlib import Path
from typing import Literal

import numpy as np
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, StrictInt, StrictStr

from emulator.access import workspace_for
from emulator.errors import ApiError, bad_request, not_found
from emulator.identity import context
from emulator.inference_logs import PipelineLog
from emulator.pandas_records import TENSOR, RecordContext, output_names, render_record
from emulator.state import EmulatorState, current_api_only

router = APIRouter(prefix="/v1/api/pipelines", dependencies=[Depends(current_api_only)])

CURSOR_HEADER = "x-iteration-cursor"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 100_000


class GetLogs(BaseModel):
    pipeline_name: StrictStr
    workspace_id: StrictInt
    order: Literal["asc", "desc"]
    cursor: StrictStr | None = None
    page_size: StrictInt | None = None
    start_time: StrictStr | None = None
    end_time: StrictStr | None = None


def _epoch_ms(field: str, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise bad_request(f"{field} {value!r} is not an RFC 3339 time") from exc
    if moment.tzinfo is None:
        raise bad_request(f"{field} {value!r} needs a UTC offset, e.g. 2024-05-01T00:00:00Z")
    return int(moment.timestamp() * 1000)


def _encode_cursor(order: str, position: int) -> str:
    raw = json.dumps({"order": order, "at": position}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str, order: str) -> int:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        position, issued_for = int(decoded["at"]), decoded["order"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise bad_request("cursor is not one this server issued") from exc
    if issued_for != order:
        raise bad_request(f"cursor was issued for order {issued_for!r}, not {order!r}")
    return position


def _page(body: GetLogs, times: np.ndarray) -> tuple[np.ndarray, int | None]:
    """The row indexes of this page, in order, and the next page's position (None if last)."""
    size = DEFAULT_PAGE_SIZE if body.page_size is None else body.page_size
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise bad_request(f"page_size must be between 1 and {MAX_PAGE_SIZE}, not {size}")
    start_ms = _epoch_ms("start_time", body.start_time)
    end_ms = _epoch_ms("end_time", body.end_time)
    lo = 0 if start_ms is None else int(np.searchsorted(times, start_ms, "left"))
    hi = len(times) if end_ms is None else int(np.searchsorted(times, end_ms, "left"))
    hi = max(lo, hi)
    if body.order == "asc":
        at = lo if body.cursor is None else min(max(_decode_cursor(body.cursor, "asc"), lo), hi)
        stop = min(at + size, hi)
        return np.arange(at, stop), stop if stop < hi else None
    at = hi if body.cursor is None else min(max(_decode_cursor(body.cursor, "desc"), lo), hi)
    stop = max(at - size, lo)
    return np.arange(at - 1, stop - 1, -1), stop if stop > lo else None


class _Contexts:
    """The RecordContext of each (model, origin) pair the page's records name, made once each."""

    def __init__(self, state: EmulatorState, log: PipelineLog, pipeline_id: int) -> None:
        self._state, self._log = state, log
        newest = state.db.one(
            "SELECT version FROM pipeline_versions WHERE pipeline_id = ? ORDER BY id DESC LIMIT 1",
            (pipeline_id,),
        )
        # Bulk-loaded records name no pipeline version: they show the pipeline's newest.
        self._newest = newest["version"] if newest else ""
        self._models: dict[int, tuple[str, list[str], str]] = {}
        self._made: dict[tuple[int, int], RecordContext] = {}

    def of(self, model_code: int, origin_code: int) -> RecordContext:
        key = (model_code, origin_code)
        if key not in self._made:
            input_name, outputs, sha = self._model(model_code)
            origin = self._log.origins[origin_code]
            self._made[key] = RecordContext(
                origin.input_name or input_name,
                outputs,
                self._log.models[model_code][0],
                sha,
                origin.pipeline_version or self._newest,
                origin.partition,
            )
        return self._made[key]

    def _model(self, code: int) -> tuple[str, list[str], str]:
        """The model's input name, output names and sha (positional names without its file)."""
        if code not in self._models:
            stored = self._state.db.one(
                "SELECT sha, file_path FROM model_versions WHERE model_version = ?",
                (self._log.models[code][1],),
            )
            input_name, outputs_named, sha = TENSOR, [], ""
            if stored is not None:
                sha = stored["sha"]
                # A file that will not load keeps the columns named positionally.
                with contextlib.suppress(ApiError):
                    input_name, outputs_named = self._state.models.names(
                        sha, Path(stored["file_path"])
                    )
            count = len(self._log.schemas[code].outputs)
            self._models[code] = (input_name, output_names(outputs_named, count), sha)
        return self._models[code]


@router.post("/get_logs")
async def get_logs(body: GetLogs, request: Request) -> JSONResponse:
    state, caller = context(request)
    workspace_for(state.db, caller, body.workspace_id)
    pipeline = state.db.one(
        "SELECT id FROM pipelines WHERE workspace_id = ? AND name = ?",
        (body.workspace_id, body.pipeline_name),
    )
    if pipeline is None:
        raise not_found(
            f"pipeline {body.pipeline_name!r} not found in workspace {body.workspace_id}"
        )
    log = state.logs.pipeline(body.pipeline_name) if state.logs.has(body.pipeline_name) else None
    cols = log.columns() if log is not None else None
    times = cols.times if cols is not None else np.empty(0, np.int64)
    rows, next_position = _page(body, times)
    records = []
    if len(rows) and log is not None and cols is not None:
        contexts = _Contexts(state, log, pipeline["id"])
        for i in rows.tolist():
            inputs, outputs = log.values(i)
            records.append(
                render_record(
                    int(cols.times[i]),
                    inputs,
                    outputs,
                    [0, int(cols.elapsed[i])],
                    contexts.of(int(cols.model_codes[i]), int(cols.origin_codes[i])),
                )
            )
    headers = {}
    if next_position is not None:
        headers[CURSOR_HEADER] = _encode_cursor(body.order, next_position)
    return JSONResponse(records, headers=headers)
