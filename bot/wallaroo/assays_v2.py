"""Assay v2 calls (`/v2/api/assays/...`): list, get, results, (de)activate, schedule, preview,
next run; and whether the instance has them at all (`WALLAROO_ASSAYS`, probed once in auto)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.wallaroo.assay_v2_models import (
    AssayResultV2,
    AssayResultV2List,
    AssayV2,
    AssayV2List,
    NextRun,
)
from bot.wallaroo.calls import ApiCaller, expect, ignore_body
from bot.wallaroo.errors import WallarooBadResponse, WallarooNotFound

# Results are asked up to now plus this: the server's clock may run ahead of ours (an
# emulator's clock is moved on purpose), and a far `end` costs nothing.
END_MARGIN = timedelta(days=3650)
EPOCH = "1970-01-01T00:00:00+00:00"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def results_end() -> str:
    return rfc3339(datetime.now(UTC) + END_MARGIN)


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
        """Whether this instance runs assays v2: the setting, or in `auto` one probe of
        `v2/api/assays/get` (404: v1 only), remembered. Other failures are raised, not cached."""
        if self._assays_mode != "auto":
            return self._assays_mode == "v2"
        if self._v2_available is None:
            async with self._v2_probe:
                if self._v2_available is None:
                    try:
                        await self.list_assays_v2()
                        self._v2_available = True
                    except WallarooNotFound:
                        self._v2_available = False
        return self._v2_available

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
        found = await self._call(
            "assays/get", body, read_only=True, parse=expect(AssayV2List), api="v2"
        )
        return found.root

    async def get_assay_v2(self, assay_id: str) -> AssayV2:
        """One assay. The spec's `get/:id` is a literal path; a server without it is asked
        for the whole listing instead."""
        try:
            return await self._call(
                "assays/get/:id", {"id": assay_id}, read_only=True, parse=expect(AssayV2), api="v2"
            )
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
        found = await self._call(
            "assays/get_results", body, read_only=True, parse=expect(AssayResultV2List), api="v2"
        )
        return sorted(found.root, key=lambda r: r.window_end)

    async def set_assay_v2_active(self, assay_id: str, active: bool) -> None:
        await self._call(
            "assays/set_active",
            {"assay_id": assay_id, "active": active},
            read_only=False,
            parse=ignore_body,  # answers null
            api="v2",
        )

    async def schedule_assay_v2(self, body: dict[str, Any]) -> str:
        """Create (schedule) an assay from the schedule body; answers its UUID."""
        return await self._call(
            "assays/schedule", body, read_only=False, parse=_uuid_string, api="v2"
        )

    async def preview_assay_v2(
        self, assay: AssayV2, start: datetime, end: datetime
    ) -> list[AssayResultV2]:
        """What the assay would score over [start, end) now, without storing anything."""
        body = assay.schedule_body() | {
            "preview_start": rfc3339(start),
            "preview_end": rfc3339(end),
        }
        found = await self._call(
            "assays/preview", body, read_only=True, parse=expect(AssayResultV2List), api="v2"
        )
        return sorted(found.root, key=lambda r: r.window_end)

    async def get_assay_v2_next_run(self, assay_id: str) -> NextRun:
        return await self._call(
            "assays/get_next_run",
            {"assay_id": assay_id},
            read_only=True,
            parse=expect(NextRun),
            api="v2",
        )

    @property
    def _v2_probe(self) -> asyncio.Lock:
        if self._v2_probe_lock is None:
            self._v2_probe_lock = asyncio.Lock()
        return self._v2_probe_lock
