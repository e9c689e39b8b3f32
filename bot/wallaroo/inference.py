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

from bot.wallaroo.assays import AssayCalls
from bot.wallaroo.calls import Parse, T, expect, ignore_body
from bot.wallaroo.errors import WallarooNotFound
from bot.wallaroo.inference_logs import InferenceLogRecord, InferenceLogRecordList
from bot.wallaroo.pipeline_models import ListedDeployment, PipelineListing
from bot.wallaroo.pipelines import PipelineCalls

PANDAS_RECORDS = "application/json; format=pandas-records"
LOGS_CALL = "pipelines/get_logs"
CURSOR_HEADER = "x-iteration-cursor"
# The tutorial's listing has no order: windows back from now, from a minute up to 8x wider
# at a time (8 minutes, ~1 hour, ... ~32 years, then everything) while they hold few records;
# down to a millisecond (records at one instant are not split further) while they are full.
_WINDOWS = [timedelta(minutes=8**k) for k in range(9)]
_FINEST = timedelta(milliseconds=1)
TUTORIAL_LOG_LIMIT = 1000  # records asked for at once there
SKIP_PAGE_SIZE = 1000  # records per get_logs call when stepping over earlier pages
LOG_DEPTH = 10_000  # how far back `logs` pages go (skip + count): each record is downloaded


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
        left = skip
        while left:  # the pages before, only for their cursors: unparsed, at most STEP each
            size = min(left, SKIP_PAGE_SIZE)
            _, cursor = await self._log_page(body, size, cursor, ignore_body)
            if cursor is None:
                return LogPage([], more=False)
            left -= size
        found, cursor = await self._log_page(body, count, cursor, expect(InferenceLogRecordList))
        return LogPage(found.root, cursor is not None)

    async def _log_page(
        self, body: dict[str, Any], size: int, cursor: str | None, parse: Parse[T]
    ) -> tuple[T, str | None]:
        """One page of get_logs and the next one's cursor (a response header)."""
        page = body | {"page_size": size} | ({"cursor": cursor} if cursor else {})
        answer, headers = await self._call_with_headers(
            LOGS_CALL, page, read_only=True, parse=parse
        )
        return answer, headers.get(CURSOR_HEADER) or None

    async def _tutorial_logs(
        self,
        workspace_id: int,
        name: str,
        count: int,
        skip: int,
        since: datetime | None,
        now: datetime,
    ) -> LogPage:
        """Walks back from now through windows [start, end), each read whole: one that comes
        back with `TUTORIAL_LOG_LIMIT` records may have lost some (the listing keeps no order),
        so it is read again narrower; one read whole ends where the next, older, one starts."""
        wanted = skip + count
        found: list[InferenceLogRecord] = []  # newest first
        end: datetime | None = None  # the first window is open-ended: Wallaroo's clock may lead
        width = _WINDOWS[0]
        while len(found) <= wanted:  # one more than wanted says whether older ones follow
            start = None if width > _WINDOWS[-1] else _whole_ms((end or now) - width)
            last = start is None or (since is not None and start <= since)
            if last:
                start = since
            batch = await self.get_baseline(
                workspace_id,
                name,
                start=None if start is None else start.isoformat(),
                end=None if end is None else end.isoformat(),
                limit=TUTORIAL_LOG_LIMIT,
            )
            if len(batch) >= TUTORIAL_LOG_LIMIT and width > _FINEST:
                width /= 8  # maybe cut short: the same end, a narrower window
                continue
            # Rows of one call in order: reversed whole, ties included.
            found += sorted(batch, key=lambda record: record.time)[::-1]
            if last:
                break
            end = start
            if len(batch) * 8 < TUTORIAL_LOG_LIMIT:
                width *= 8
        return LogPage(found[skip:wanted], more=len(found) > wanted)


def _whole_ms(moment: datetime) -> datetime:
    """`moment` down to its millisecond: records are timed in ms, so adjacent windows' bounds
    mean the same instant however the server rounds."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
