"""Assay calls: create, list and (de)activate v1 assays, run them interactively, read their
results (today's `assays/get_assay_results`, else the tutorial's `assays/get_results`); and
`drift_results`, one call for either generation's results in one view."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.wallaroo.assay_models import (
    Assay,
    AssayActive,
    AssayConfig,
    AssayCreated,
    AssayList,
    AssayResult,
    AssayResultList,
    AssaySummary,
    InferenceLogRecord,
    InferenceLogRecordList,
)
from bot.wallaroo.assay_v2_models import AssayV2
from bot.wallaroo.assays_v2 import EPOCH, AssayV2Calls, results_end, rfc3339
from bot.wallaroo.drift import DriftResult, from_v1, from_v2, parse_time
from bot.wallaroo.errors import WallarooBadRequest, WallarooNotFound

RESULTS_PATH, TUTORIAL_RESULTS_PATH = "assays/get_assay_results", "assays/get_results"


def _without_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def is_v2_id(assay_id: str | int) -> bool:
    """v1 ids are integers, v2 ids UUIDs (the SDK routes the same way)."""
    return not str(assay_id).isdigit()


class AssayCalls(AssayV2Calls):
    """Assays v1 (and, inherited, v2). Creating and (de)activating are writes and never
    retried; interactive runs compute without storing anything, so they are retried like reads."""

    async def create_assay(self, config: AssayConfig) -> int:
        """Create the assay `config` describes; answers its id. A config in the tutorial's
        shapes goes in today's first (the spec's required fields); an instance refusing
        that with a 4xx, which changed nothing, gets the tutorial's body, remembered. If both
        are refused, today's refusal is the one raised."""
        if not config.in_tutorial_shape or self._v1_create_shape == "tutorial":
            return await self._create_assay(config.to_request())
        try:
            created = await self._create_assay(config.to_today_request(rfc3339(datetime.now(UTC))))
        except WallarooBadRequest as refused:
            if self._v1_create_shape == "today":
                raise
            try:
                created = await self._create_assay(config.to_request())
            except WallarooBadRequest:
                raise refused from None
            self._v1_create_shape = "tutorial"
            return created
        self._v1_create_shape = "today"
        return created

    async def _create_assay(self, body: dict[str, Any]) -> int:
        created = await self._write("assays/create", body, AssayCreated)
        return created.assay_id

    async def list_assays(self, pipeline_id: int) -> list[Assay]:
        found = await self._read("assays/list", {"pipeline_id": pipeline_id}, AssayList)
        return found.root

    async def set_assay_active(self, assay_id: int, active: bool) -> AssayActive:
        body = {"id": assay_id, "active": active}
        return await self._write("assays/set_active", body, AssayActive)

    async def run_interactive_baseline(self, config: AssayConfig) -> AssayResult:
        """The baseline's summary alone, as one result with status `BaselineRun`."""
        body = config.to_request()
        return await self._read("assays/run_interactive_baseline", body, AssayResult)

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
        # Today's spec requires `locations` (edge locations to filter on; none: all of them).
        body: dict[str, Any] = {
            "workspace_id": workspace_id,
            "pipeline_name": pipeline_name,
            "locations": [],
        }
        optional = {"start": start, "end": end, "model_name": model_name, "limit": limit}
        body.update(_without_none(optional))
        found = await self._read("assays/get_baseline", body, InferenceLogRecordList)
        return found.root

    async def run_interactive(self, config: AssayConfig) -> list[AssayResult]:
        """Run `config` over every window the data allows now: one result per window."""
        found = await self._read("assays/run_interactive", config.to_request(), AssayResultList)
        return found.root

    async def summarize(self, summarizer: dict[str, Any], baseline: dict[str, Any]) -> AssaySummary:
        """A baseline's summary (`baseline`: `{"fixed_window": {...}}` or `{"vector": [...]}`);
        today's replacement of run_interactive_baseline."""
        body = {"summarizer": summarizer, "baseline": baseline}
        return await self._read("assays/summarize", body, AssaySummary)

    async def get_assay_results(
        self,
        assay_id: int,
        *,
        start: str | None = None,
        end: str | None = None,
        limit: int | None = None,
        pipeline_id: int | None = None,
    ) -> list[AssayResult]:
        """The results the instance's scheduled runs of v1 assay `assay_id` have stored. Today's
        path needs start and end (sent: the epoch, and now plus a margin, unless given); an
        instance answering it 404 is asked the tutorial's path from then on."""
        if self._v1_results_path != TUTORIAL_RESULTS_PATH:
            body: dict[str, Any] = {
                "assay_id": assay_id,
                "start": start or EPOCH,
                "end": end or results_end(),
            }
            try:
                found = await self._read(RESULTS_PATH, body, AssayResultList)
                self._v1_results_path = RESULTS_PATH
                return _limited(found.root, limit)
            except WallarooNotFound as exc:
                if self._v1_results_path == RESULTS_PATH or not _route_missing(exc, RESULTS_PATH):
                    raise  # the path exists: the assay does not
        body = {"assay_id": assay_id}
        optional = {"start": start, "end": end, "limit": limit, "pipeline_id": pipeline_id}
        body.update(_without_none(optional))
        found = await self._read(TUTORIAL_RESULTS_PATH, body, AssayResultList)
        self._v1_results_path = TUTORIAL_RESULTS_PATH
        return found.root

    async def drift_results(
        self,
        assay_id: str | int,
        *,
        start: str | None = None,
        newer_than: str | None = None,
        assay: AssayV2 | None = None,
    ) -> list[DriftResult]:
        """Stored results of either generation's assay, oldest first: those asked from `start`
        (v1: windows starting then or later; v2: ending then or later) whose window starts after
        `newer_than`. A v2 assay is read (unless given) only when some remain, for its baseline
        and thresholds, so a poll that finds nothing new costs one call."""
        after = parse_time(newer_than) if newer_than else None
        if not is_v2_id(assay_id):
            found = await self.get_assay_results(int(assay_id), start=start)
            path = self._v1_results_path or RESULTS_PATH
            views = [from_v1(r, assay_id, path) for r in found]
            return sorted((v for v in views if after is None or v.started > after), key=_started)
        stored = await self.get_assay_v2_results(str(assay_id), start=start)
        if after is not None:
            stored = [r for r in stored if not r.window_start or parse_time(r.window_start) > after]
        if not stored:
            return []
        assay = assay or await self.get_assay_v2(str(assay_id))
        converted = (from_v2(r, assay) for r in stored)
        return sorted(
            (v for v in converted if v is not None and (after is None or v.started > after)),
            key=_started,
        )


def _started(result: DriftResult) -> datetime:
    return result.started


def _limited(results: list[AssayResult], limit: int | None) -> list[AssayResult]:
    return results if limit is None else results[:limit]


def _route_missing(error: WallarooNotFound, path: str) -> bool:
    # A path the server lacks answers a bare 404, or one naming the path; a missing assay's
    # 404 names the assay.
    msg = error.msg.strip().lower()
    return msg in ("not found", "http 404", "no details given") or path in msg
