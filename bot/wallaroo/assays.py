"""Assay calls: create, list and (de)activate assays, run them interactively, read their results."""

from __future__ import annotations

from typing import Any

from bot.wallaroo.assay_models import (
    Assay,
    AssayActive,
    AssayConfig,
    AssayCreated,
    AssayList,
    AssayResult,
    AssayResultList,
    InferenceLogRecord,
    InferenceLogRecordList,
)
from bot.wallaroo.calls import ApiCaller, expect


def _without_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


class AssayCalls(ApiCaller):
    """Assays (v1). Creating and (de)activating are writes and never retried; interactive runs
    compute without storing anything, so they are retried like reads."""

    async def create_assay(self, config: AssayConfig) -> int:
        """Create the assay `config` describes; answers its id."""
        created = await self._call(
            "assays/create", config.to_request(), read_only=False, parse=expect(AssayCreated)
        )
        return created.assay_id

    async def list_assays(self, pipeline_id: int) -> list[Assay]:
        found = await self._call(
            "assays/list", {"pipeline_id": pipeline_id}, read_only=True, parse=expect(AssayList)
        )
        return found.root

    async def set_assay_active(self, assay_id: int, active: bool) -> AssayActive:
        return await self._call(
            "assays/set_active",
            {"id": assay_id, "active": active},
            read_only=False,
            parse=expect(AssayActive),
        )

    async def run_interactive_baseline(self, config: AssayConfig) -> AssayResult:
        """The baseline's summary alone, as one result with status `BaselineRun`."""
        return await self._call(
            "assays/run_interactive_baseline",
            config.to_request(),
            read_only=True,
            parse=expect(AssayResult),
        )

    async def get_baseline(
        self,
        workspace_id: int,
        pipeline_name: str,
        *,
        start: str | None = None,
        end: str | None = None,
        model_name: str | None = None,
        limit: int | None = None,
    ) -> list[InferenceLogRecord]:
        """The inference log records a baseline over [start, end) would summarise."""
        body: dict[str, Any] = {"workspace_id": workspace_id, "pipeline_name": pipeline_name}
        optional = {"start": start, "end": end, "model_name": model_name, "limit": limit}
        body.update(_without_none(optional))
        found = await self._call(
            "assays/get_baseline", body, read_only=True, parse=expect(InferenceLogRecordList)
        )
        return found.root

    async def run_interactive(self, config: AssayConfig) -> list[AssayResult]:
        """Run `config` over every window the data allows now: one result per window."""
        found = await self._call(
            "assays/run_interactive",
            config.to_request(),
            read_only=True,
            parse=expect(AssayResultList),
        )
        return found.root

    async def get_assay_results(
        self,
        assay_id: int,
        *,
        start: str | None = None,
        end: str | None = None,
        limit: int | None = None,
        pipeline_id: int | None = None,
    ) -> list[AssayResult]:
        """The results the instance's scheduled runs of assay `assay_id` have stored."""
        body: dict[str, Any] = {"assay_id": assay_id}
        optional = {"start": start, "end": end, "limit": limit, "pipeline_id": pipeline_id}
        body.update(_without_none(optional))
        found = await self._call(
            "assays/get_results", body, read_only=True, parse=expect(AssayResultList)
        )
        return found.root
