"""Remediation from an alert: what a drift or deployment episode may offer ("Roll back to
version X", "Undeploy"), learnt from Wallaroo when the episode opens and kept in its detail
(`remedy`); and, once a button made an approval request linked to the episode
(`approval_requests.episode_id`), the episode's message following that request as it moves and
its close saying "remediated" when the subject is healthy again afterwards.

The request itself is an ordinary one (handlers/approvals/requests.py): same four-eyes, expiry,
exactly-once and audit. The episode's message reads the linked request when it is rendered
(staging.render_current); this module only stages the edits that make it re-render.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.wallaroo import PipelineListing, WallarooError
from handlers.alerting.episodes import TOOK_EFFECT, close_and_announce
from handlers.alerting.staging import enqueue_for_episode, render_current
from handlers.context import Services
from handlers.render.alert_messages import CREDIT_ON_SUCCESS, REMEDIATED, details_of
from handlers.render.alert_notes import thread_note
from handlers.render.alert_remediation import remediation_text
from storage.alerts import AlertEpisode, EpisodeKind, get_episode
from storage.approvals import ApprovalRequest, ApprovalState, record_progress
from storage.outbox import OutboxKind

logger = logging.getLogger(__name__)

REMEDY = "remedy"  # the episode detail key (sticky: handlers/render/alert_messages.py)


async def remedy_for_pipeline(
    services: Services, workspace_id: int, pipeline_id: int
) -> dict[str, Any] | None:
    """What an alert on this pipeline may offer; None when Wallaroo cannot say now (the alert
    goes out without the buttons rather than not at all)."""
    try:
        listing = await services.wallaroo.find_listed_pipeline(workspace_id, pipeline_id)
        return await _remedy(services, listing) if listing is not None else None
    except WallarooError as exc:
        logger.warning("no remediation for pipeline %s: %s", pipeline_id, exc)
        return None


async def remedy_by_name(
    services: Services, pipeline_name: str, workspace_id: int | None = None
) -> dict[str, Any] | None:
    """As `remedy_for_pipeline`, for an assay's pipeline known by name (the assay's result
    names it) and, when known, its workspace: none when no pipeline, or more than one
    workspace's, matches (a button must never act on a namesake)."""
    try:
        listings = [
            listing
            for listing in await services.wallaroo.list_pipelines()
            if listing.pipeline.name == pipeline_name
            and workspace_id in (None, listing.workspace.id)
        ]
        return await _remedy(services, listings[0]) if len(listings) == 1 else None
    except WallarooError as exc:
        logger.warning("no remediation for pipeline %s: %s", pipeline_name, exc)
        return None


async def _remedy(services: Services, listing: PipelineListing) -> dict[str, Any] | None:
    """Undeploy when deployed; roll back to the version live before the current one (the
    next older one, as `rollback` with no version takes it) when there is one."""
    history = await services.wallaroo.version_history(listing.workspace.id, listing)
    if history.live is None:
        return None  # nothing to undeploy, nothing to roll back
    remedy: dict[str, Any] = {
        "workspace_id": listing.workspace.id,
        "pipeline_id": listing.pipeline.id,
        "pipeline_name": listing.pipeline.name,
        "rollback_to": None,
        # What was live when the alert opened: its Roll back means "the one before this".
        "from_version": history.live_key,
    }
    index = history.live_index
    if index is not None and index + 1 < len(history.versions):
        earlier = history.versions[index + 1]
        # `number` by age (VersionHistory), stable as versions are made; alerts stored
        # before it was numbered so kept `position` (newest first), which is not shown.
        number = history.number_at(index + 1)
        remedy["rollback_to"] = {"number": number, "version": earlier.version}
    return remedy


def request_id_of(target: str) -> int | None:
    """The id in an Answer's target, `request N`, as `ask` names the request it made."""
    kind, _, number = target.partition(" ")
    return int(number) if kind == "request" and number.isdigit() else None


async def link_to_episode(services: Services, request_id: int, episode_id: int) -> None:
    """Link the request to the episode whose button made it, and show it on the episode."""
    async with services.sessions() as session:
        await record_progress(session, request_id, episode_id=episode_id)
        episode = await get_episode(session, episode_id)
        if episode is not None:
            await _stage_edit(session, episode, services.clock())
        await session.commit()


async def show_remediation(services: Services, request: ApprovalRequest) -> None:
    """The request moved: edit its episode's message. A succeeded undeploy ends the episode
    at once, remediated (nothing is left to recover); a rollback's waits for the subject to be
    healthy again. Never raises: the request's own progress must not wait on its alert."""
    if request.episode_id is None:
        return
    try:
        async with services.sessions() as session:
            episode = await get_episode(session, request.episode_id)
            if episode is None:
                return
            if (
                episode.is_open
                and request.action == "undeploy"
                and request.current_state is ApprovalState.SUCCEEDED
            ):
                note = thread_note(":white_circle: Undeployed through the bot.")
                await close_and_announce(session, episode, note, services.clock(), recovered=True)
            elif not episode.is_open and details_of(episode).get(CREDIT_ON_SUCCESS) == request.id:
                await credit_late(session, episode, request, services.clock())
            else:
                _note_took_effect(services, episode, request)
                session.add(episode)
                await _stage_edit(session, episode, services.clock())
            await session.commit()
    except Exception:
        logger.exception("could not show request %s on episode %s", request.id, request.episode_id)


def _note_took_effect(services: Services, episode: AlertEpisode, request: ApprovalRequest) -> None:
    """An open assay episode's rollback succeeded: keep when, on Wallaroo's clock (assay
    windows are on it), so that a later Ok credits it only for a window mostly after it
    (episodes.recovered_before). Kept once: the first time it is seen succeeded."""
    if not (
        episode.is_open
        and episode.kind == EpisodeKind.ASSAY
        and request.action == "rollback"
        and request.current_state is ApprovalState.SUCCEEDED
    ):
        return
    detail = details_of(episode)
    if isinstance(took := detail.get(TOOK_EFFECT), dict) and took.get("request") == request.id:
        return
    at = services.wallaroo.wallaroo_now().isoformat()
    detail[TOOK_EFFECT] = {"request": request.id, "at": at}
    episode.detail = json.dumps(detail)


async def credit_late(
    session: AsyncSession, episode: AlertEpisode, request: ApprovalRequest, now: datetime
) -> None:
    """A deployment seen Running while its rollback was followed closed waiting for it
    (episodes._if_remediated): succeeded, it is what put things right, and the closed episode
    says "remediated" now; ended otherwise, the episode stays plainly recovered."""
    if not request.current_state.is_final:
        await _stage_edit(session, episode, now)
        return
    detail = details_of(episode)
    detail.pop(CREDIT_ON_SUCCESS, None)
    if request.current_state is ApprovalState.SUCCEEDED:
        detail.pop("closed_reason", None)
        detail[REMEDIATED] = remediation_text(request, detail.get(REMEDY))
        note = thread_note(f":white_check_mark: *Remediated*: {detail[REMEDIATED]}")
        await enqueue_for_episode(session, episode, OutboxKind.THREAD, note)
    episode.detail = json.dumps(detail)
    session.add(episode)
    await _stage_edit(session, episode, now)


async def _stage_edit(session: AsyncSession, episode: AlertEpisode, now: datetime) -> None:
    # The edit is rendered again when sent (outbox `_current`), with the request as it is then.
    await enqueue_for_episode(
        session, episode, OutboxKind.UPDATE, await render_current(session, episode, now)
    )
