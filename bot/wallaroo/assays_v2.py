"""Assay v2 calls (`/v2/api/assays/...`): list, get, results, (de)activate, schedule, preview,
next run; and whether the instance has them at all (`WALLAROO_ASSAYS`, probed once in auto)."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.wallaroo.assay_v2_models import (
    AssayResultV2,
    AssayResultV2List,
    AssayV2,
    AssayV2List,
    NextRun,
)
from bot.wallaroo.calls import ApiCaller
from bot.wallaroo.drift import parse_time
from bot.wallaroo.errors import (
    WallarooBadResponse,
    WallarooError,
    WallarooForbidden,
    WallarooNotFound,
    WallarooUnauthorized,
)

logger = logging.getLogger(__name__)

# Results are asked up to now plus this: the server's clock may run ahead of ours (an
# emulator's clock is moved on purpose), and a far `end` costs nothing.
END_MARGIN = timedelta(days=3650)
EPOCH = "1970-01-01T00:00:00+00:00"
# How long a probe's "no v2 here" (or "not for this account") holds before asking again.
V2_RECHECK_SECONDS = 600.0


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def results_end() -> str:
    return rfc3339(datetime.now(UTC) + END_MARGIN)


def oldest_first(results: list[AssayResultV2]) -> list[AssayResultV2]:
    """Results by window, oldest first. Real instances answer in no particular order, and
    with any UTC offset (`-06:00`), so the instants are compared, never the strings."""
    return sorted(results, key=_window_key)


def _window_key(result: AssayResultV2) -> tuple[datetime, datetime]:
    end = parse_time(result.window_end)
    return (parse_time(result.window_start) if result.window_start else end), end


def _uuid_string(body: Any, path: str) -> str:
    # `schedule` answers the new assay's id as a bare JSON string.
    if isinstance(body, str) and body.strip():
        return body.strip().strip('"')
    if isinstance(body, dict) and isinstance(body.get("id"), str):
        return body["id"]
    raise WallarooBadResponse("expected the new assay's id (a UUID string)", path=path)


class AssayV2Calls(ApiCaller):
    """Assays v2. Scheduling and (de)activating are writes and never retried; previews compute
    without storing, so they are retried like reads."""

    async def uses_assays_v2(self) -> bool:
        """Whether this instance runs assays v2: the setting, or in `auto` a probe of
        `v2/api/assays/get`. Yes is remembered for good; no (404) and a refusal (401/403, as
        a client-credentials service account in no workspace may get) only for
        V2_RECHECK_SECONDS, so one odd answer does not decide for the process's life. A
        refusal is raised (the caller says what could not be seen); other failures are
        raised and not remembered."""
        if self._assays_mode != "auto":
            return self._assays_mode == "v2"
        if self._v2_available is not True:
            async with self._v2_probe:
                if self._v2_available is None or self._v2_recheck_due():
                    await self._probe_v2()
        if self._v2_refusal is not None:
            refusal = self._v2_refusal
            raise type(refusal)(refusal.msg, status=refusal.status, path=refusal.path)
        return bool(self._v2_available)

    def _v2_recheck_due(self) -> bool:
        return time.monotonic() - self._v2_probed_at >= V2_RECHECK_SECONDS

    async def _probe_v2(self) -> None:
        refusal: WallarooError | None = None
        try:
            await self.list_assays_v2()
            available = True
        except WallarooNotFound:
            available = False
        except (WallarooUnauthorized, WallarooForbidden) as exc:
            logger.warning("assays v2 refused to this account, v1 only for now: %s", exc)
            available, refusal = False, exc
        self._v2_available, self._v2_refusal = available, refusal
        self._v2_probed_at = time.monotonic()

    async def list_assays_v2(
        self,
        *,
        pipeline_name: str | None = None,
        workspace_id: int | None = None,
        active: str = "All",
    ) -> list[AssayV2]:
        body: dict[str, Any] = {"active": active}  # ActiveOnly | InactiveOnly | All
        if pipeline_name is not None:
            body["pipeline_name"] = pipeline_name
        if workspace_id is not None:
            body["workspace_id"] = workspace_id
        found = await self._read("assays/get", body, AssayV2List, api="v2")
        return found.root

    async def get_assay_v2(self, assay_id: str) -> AssayV2:
        """One assay. The spec's `get/:id` is a literal path; a server without it is asked
        for the whole listing instead."""
        try:
            return await self._read("assays/get/:id", {"id": assay_id}, AssayV2, api="v2")
        except WallarooNotFound:
            pass
        for assay in await self.list_assays_v2():
            if assay.id == assay_id:
                return assay
        raise WallarooNotFound(f"no assay {assay_id}", status=404, path="v2/api/assays/get")

    async def get_assay_v2_results(
        self,
        assay_id: str,
        *,
        start: str | None = None,
        end: str | None = None,
        workspace_id: int | None = None,
    ) -> list[AssayResultV2]:
        """Stored results whose window ends in [start, end), oldest first."""
        body: dict[str, Any] = {
            "id": assay_id,
            "start": start or EPOCH,
            "end": end or results_end(),
        }
        if workspace_id is not None:
            body["workspace_id"] = workspace_id
        found = await self._read("assays/get_results", body, AssayResultV2List, api="v2")
        return oldest_first(found.root)

    async def set_assay_v2_active(self, assay_id: str, active: bool) -> None:
        body = {"assay_id": assay_id, "active": active}
        await self._write("assays/set_active", body, api="v2")  # answers null

    async def schedule_assay_v2(self, body: dict[str, Any]) -> str:
        """Create (schedule) an assay from the schedule body; answers its UUID."""
        return await self._call(
            "assays/schedule", body, read_only=False, parse=_uuid_string, api="v2"
        )

    async def preview_assay_v2(
        self, assay: AssayV2, start: datetime, end: datetime
    ) -> list[AssayResultV2]:
        """What the assay would score over [start, end) now, without storing anything."""
        body = assay.preview_body(rfc3339(start), rfc3339(end))
        found = await self._read("assays/preview", body, AssayResultV2List, api="v2")
        return oldest_first(found.root)

    async def get_assay_v2_next_run(self, assay_id: str) -> NextRun:
        return await self._read("assays/get_next_run", {"assay_id": assay_id}, NextRun, api="v2")

    @property
    def _v2_probe(self) -> asyncio.Lock:
        if self._v2_probe_lock is None:
            self._v2_probe_lock = asyncio.Lock()
        return self._v2_probe_lock
