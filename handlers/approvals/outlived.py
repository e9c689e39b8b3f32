"""Remediations their alert outlived: a rollback or undeploy asked for from an alert's button
(linked to its episode) that nobody decided before the alert recovered on its own and stayed
healthy.

Approving it then would change a pipeline that is healthy again, on the strength of trouble
that is over, so it is withdrawn as stale, as a request is once the pipeline no longer is what
it was asked for (checks.py). Not at the first recovery: a crash-looping deployment is Running
for a poll between its Errors, and the flapping episode that reopens is the same trouble
(flapping.py). So only once the episode has been closed for CHATOPS_FLAP_WINDOW_SECONDS (or
settled, Ok for that whole window) and nothing else of the pipeline is still alerting (another
assay, its deployment, the storm's group): until then Approve works as for any request.

The withdrawal is a compare-and-set from pending, audited as the bot (an intent row first:
fail closed), and only its winner tells the alert's thread; an Approve that wins the race is
carried out and the thread never says withdrawn. The poller withdraws them after each round
of reminders; an Approve pressed once it is due is refused for the same reason (requests.
decide). An episode closed for a reason (unwatched, unsubscribed, disabled) withdraws nothing:
somebody ended it, not the trouble, and what they asked for is still theirs to decide."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.alerting.groups import pipeline_of
from handlers.alerting.staging import enqueue_for_episode
from handlers.approvals.following import refresh_message
from handlers.context import BOT_ACTOR, Services
from handlers.render.alert_messages import REMEDIATED, details_of
from handlers.render.alert_notes import thread_note
from handlers.render.alert_remediation import withdrawn_note
from handlers.render.approval_messages import OUTLIVED
from handlers.render.times import when
from storage.alerts import AlertEpisode, EpisodeKind, get_episode, open_episodes, pipeline_subject
from storage.approvals import ApprovalRequest, ApprovalState, move, pending_requests
from storage.audit import AuditEntry, Outcome, outcome_target
from storage.outbox import OutboxKind

logger = logging.getLogger(__name__)


async def outlived_because(
    session: AsyncSession, request: ApprovalRequest, now: datetime, window: float
) -> str | None:
    """Why the request is stale as its alert recovered on its own since it was asked and has
    stayed so for `window` seconds, or None (not from an alert, the alert still open or
    recovered too lately to rule out a reopen, closed for a reason, remediated, or another
    alert of its pipeline still open)."""
    if request.episode_id is None:
        return None
    episode = await get_episode(session, request.episode_id)
    if episode is None or episode.is_open or episode.closed_at is None:
        return None
    detail = details_of(episode)
    if detail.get("closed_reason") or detail.get(REMEDIATED):
        return None
    if episode.closed_at < request.created_at:
        return None  # closed before it was asked: not this request's alert ending
    settled = bool(detail.get("settled"))  # flapping, then Ok for the whole window
    if not settled and (now - episode.closed_at).total_seconds() < window:
        return None  # a breach now would reopen it, flapping: the same trouble
    if await _still_alerting(session, request, episode):
        return None
    alert = f"{OUTLIVED}{episode.id} ({episode.title})"
    since = when(episode.closed_at)
    return f"{alert} recovered on its own at {since} and stayed healthy, before anyone decided"


async def _still_alerting(
    session: AsyncSession, request: ApprovalRequest, episode: AlertEpisode
) -> bool:
    """Whether the request's pipeline still has trouble: its alert's group still open, or
    another open episode about that pipeline (its deployment by id; an assay by its
    pipeline's id when the episode has it, else by name: rather kept than withdrawn)."""
    group = details_of(episode).get("group")
    for other in await open_episodes(session):
        if other.id == episode.id:
            continue
        if other.kind == EpisodeKind.GROUP:
            if group and str(other.id) == str(group):
                return True
            continue
        if other.subject == pipeline_subject(request.pipeline_id):
            return True
        if other.subject.startswith("pipeline:"):
            continue  # another pipeline's deployment, whatever its name
        pipeline_id = details_of(other).get("pipeline_id")
        if pipeline_id is not None:
            if str(pipeline_id) == str(request.pipeline_id):
                return True
        elif pipeline_of(other) == request.pipeline_name:
            return True
    return False


async def withdraw_outlived(services: Services) -> int:
    """Withdraw the pending requests their alert outlived; returns how many this call did
    (another replica or an Approve click racing it does the others, and says so itself).
    Never raises: one request that cannot be withdrawn now is tried again next round, and the
    poll's digests and delivery go on."""
    now, window = services.clock(), services.settings.chatops_flap_window_seconds
    found = []
    try:
        async with services.sessions() as session:
            for request in await pending_requests(session, now):
                why = await outlived_because(session, request, now, window)
                if why is not None:
                    found.append((request, why))
    except Exception:
        logger.exception("could not look for remediations their alert outlived")
        return 0
    withdrawn = 0
    for request, why in found:
        try:
            withdrawn += await withdraw(services, request, why, outlived=True)
        except Exception:
            logger.exception("could not withdraw request %s (its alert outlived it)", request.id)
    return withdrawn


async def withdraw(
    services: Services, request: ApprovalRequest, why: str, *, outlived: bool = False
) -> bool:
    """Move a pending request to stale for `why`, audited as the bot's `ACTION-stale` (its
    intent first: `AuditUnavailable` and nothing is moved); True if this call won. Only the
    winner edits its message and, when `outlived`, tells its alert's thread it is withdrawn."""
    intent = await _audit(services, request, Outcome.INTENT, why)
    async with services.sessions() as session:
        won = await move(
            session,
            request.id or 0,
            from_states=[ApprovalState.PENDING],
            to_state=ApprovalState.STALE,
            decision_note=why,
        )
    if not won:
        await _audit(services, request, Outcome.REFUSED, "already decided", intent)
        return False
    await _audit(services, request, Outcome.OK, why, intent)
    if outlived and request.episode_id is not None:
        async with services.sessions() as session:
            episode = await get_episode(session, request.episode_id)
            if episode is not None:
                note = thread_note(withdrawn_note(request, details_of(episode).get("remedy")))
                await enqueue_for_episode(session, episode, OutboxKind.THREAD, note)
                await session.commit()
    await refresh_message(services, request.id or 0)
    return True


async def _audit(
    services: Services,
    request: ApprovalRequest,
    outcome: Outcome,
    detail: str,
    intent: AuditEntry | None = None,
) -> AuditEntry:
    target = f"pipeline {request.pipeline_name}"
    return await services.audit.record(
        **replace(BOT_ACTOR, channel_id=request.channel).audit_fields(),
        command_text=f"request {request.id} {request.action} stale: {detail}",
        area="approvals",
        action=f"{request.action}-stale",
        target=outcome_target(target, intent) if intent is not None else "",
        outcome=outcome,
        duration_ms=0,
    )
