"""Test inference and inference logs: `infer` through a pipeline's live deployment, and the
newest records of its log, on today's API and the 2022 tutorial's.

Which generation answers is told by pipelines/list_pipeline_versions (PipelineCalls learns it
on first use): instances that have it take pandas records (`application/json;
format=pandas-records`) and answer pipelines/get_logs; the tutorial's takes `{"tensor": [...]}`
only and lists log records through assays/get_baseline, oldest first.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from bot.wallaroo.assays import AssayCalls
from bot.wallaroo.calls import expect
from bot.wallaroo.errors import (
    TRANSPORT_ERRORS,
    WallarooNotFound,
    WallarooServerError,
    WallarooUnauthorized,
    WallarooUnreachable,
    decode_body,
    error_for_response,
    unreachable_from,
)
from bot.wallaroo.inference_logs import InferenceLogRecord, InferenceLogRecordList
from bot.wallaroo.models import parse_response
from bot.wallaroo.pipeline_models import ListedDeployment, PipelineListing
from bot.wallaroo.pipelines import PipelineCalls

PANDAS_RECORDS = "application/json; format=pandas-records"
LOGS_CALL = "pipelines/get_logs"
CURSOR_HEADER = "x-iteration-cursor"
# The tutorial's listing has no order: windows back from now, each 8x the last, until one
# holds enough records (a minute, 8 minutes, ~1 hour, ... ~4 years, then everything).
_WINDOWS = [timedelta(minutes=8**k) for k in range(9)]
TUTORIAL_LOG_LIMIT = 1000  # records asked for at once there


class NotTensorData(ValueError):
    """Records the tutorial's API cannot take: it knows only one `tensor` column."""


@dataclass(frozen=True)
class InferenceAnswer:
    records: list[InferenceLogRecord]
    deployment: ListedDeployment
    pandas_records: bool  # sent as today's pandas records (else as the tutorial's tensor)


@dataclass(frozen=True)
class LogPage:
    records: list[InferenceLogRecord]  # newest first
    more: bool  # whether older records (within `since`) follow


def tensor_body(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Records of one column (`[{"tensor": [..]}, ...]`) as the tutorial's `{"tensor": [[..]]}`."""
    columns = {name for record in records for name in record}
    if len(columns) != 1:
        shown = ", ".join(sorted(columns)) or "none"
        raise NotTensorData(
            f"this Wallaroo (the tutorial's API) takes one tensor column; the data has {shown}"
        )
    (column,) = columns
    return {"tensor": [record[column] for record in records]}


class InferenceCalls(PipelineCalls, AssayCalls):
    async def speaks_pandas_records(self, workspace_id: int, listing: PipelineListing) -> bool:
        """Whether this instance is today's Wallaroo (see the module's docstring)."""
        if self._lists_versions is None:
            with contextlib.suppress(WallarooNotFound):
                await self.list_pipeline_versions(workspace_id, listing)
        return self._lists_versions is True

    async def infer(
        self, workspace_id: int, listing: PipelineListing, records: list[dict[str, Any]]
    ) -> InferenceAnswer | None:
        """Run `records` (pandas records) through the pipeline's live deployment; None when it
        has none. Never retried: every inference is logged, and a retry would log it twice."""
        live = await self.live_deployment(workspace_id, listing)
        if live is None:
            return None
        pandas = await self.speaks_pandas_records(workspace_id, listing)
        request: dict[str, Any]
        if pandas:
            content = json.dumps(records).encode()
            request = {"content": content, "headers": {"Content-Type": PANDAS_RECORDS}}
        else:
            request = {"json": tensor_body(records)}
        name = quote(listing.pipeline.name, safe="")
        path = f"pipelines/infer/{quote(live.deploy_id, safe='')}-{live.id}/{name}"
        found = await self._call(
            path, read_only=False, parse=expect(InferenceLogRecordList), request=request
        )
        return InferenceAnswer(found.root, live, pandas)

    async def pipeline_logs(
        self,
        workspace_id: int,
        listing: PipelineListing,
        *,
        count: int,
        skip: int = 0,
        since: datetime | None = None,
        now: datetime,
    ) -> LogPage:
        """The newest `count` records after the newest `skip` (and not before `since`)."""
        if await self.speaks_pandas_records(workspace_id, listing):
            return await self._todays_logs(workspace_id, listing.pipeline.name, count, skip, since)
        return await self._tutorial_logs(
            workspace_id, listing.pipeline.name, count, skip, since, now
        )

    async def _todays_logs(
        self, workspace_id: int, name: str, count: int, skip: int, since: datetime | None
    ) -> LogPage:
        body: dict[str, Any] = {"pipeline_name": name, "workspace_id": workspace_id}
        body["order"] = "desc"
        if since is not None:
            body["start_time"] = since.isoformat()
        cursor: str | None = None
        if skip:  # one call steps over the pages before, its cursor starts this one
            _, cursor = await self._read_with_cursor(LOGS_CALL, body | {"page_size": skip})
            if cursor is None:
                return LogPage([], more=False)
            body["cursor"] = cursor
        found, cursor = await self._read_with_cursor(LOGS_CALL, body | {"page_size": count})
        return LogPage(found, cursor is not None)

    async def _tutorial_logs(
        self,
        workspace_id: int,
        name: str,
        count: int,
        skip: int,
        since: datetime | None,
        now: datetime,
    ) -> LogPage:
        wanted = skip + count
        found: list[InferenceLogRecord] = []
        for window in [*_WINDOWS, None]:
            start = None if window is None else now - window
            if since is not None and (start is None or start <= since):
                start = since
            found = await self.get_baseline(
                workspace_id,
                name,
                start=None if start is None else start.isoformat(),
                limit=TUTORIAL_LOG_LIMIT,
            )
            if len(found) >= wanted or start == since:
                break
        # Oldest first, rows of one call in order: reversed whole, ties included.
        newest = sorted(found, key=lambda record: record.time)[::-1]
        return LogPage(newest[skip:wanted], more=len(newest) > wanted)

    async def _read_with_cursor(
        self, path: str, body: dict[str, Any]
    ) -> tuple[list[InferenceLogRecord], str | None]:
        """Log records and the next page's cursor, which comes in a response header that `_call`
        does not hand back: the same token, 401 renewal and retries as `_call`'s reads."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._read_attempts),
            wait=wait_exponential(multiplier=self._backoff_seconds, max=2),
            retry=retry_if_exception_type((WallarooUnreachable, WallarooServerError)),
            reraise=True,
        )
        return await retrying(self._post_for_cursor, path, body)

    async def _post_for_cursor(
        self, path: str, body: dict[str, Any]
    ) -> tuple[list[InferenceLogRecord], str | None]:
        token = await self._auth.token()
        try:
            return await self._post_once(path, token, body)
        except WallarooUnauthorized:
            await self._auth.invalidate(token)
            return await self._post_once(path, await self._auth.token(), body)

    async def _post_once(
        self, path: str, token: str, body: dict[str, Any]
    ) -> tuple[list[InferenceLogRecord], str | None]:
        headers = {"Authorization": f"Bearer {token}"}
        try:
            response = await self._http.post(self._url_of(path), json=body, headers=headers)
        except TRANSPORT_ERRORS as exc:
            raise unreachable_from(exc, path) from exc
        found = decode_body(response)
        if not response.is_success:
            raise error_for_response(path, response.status_code, found)
        records = parse_response(InferenceLogRecordList, found, path)
        return records.root, response.headers.get(CURSOR_HEADER) or None
