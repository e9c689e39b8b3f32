"""Remediations their alert outlived: a rollback or undeploy asked for from an alert's button
(linked to its episode) that nobody decided before the alert recovered on its own.

Approving it then would change a pipeline that is healthy again, on the strength of trouble
that is over, so it is withdrawn as stale, as a request is once the pipeline no longer is what
it was asked for (checks.py). When is render/alert_remediation.withdrawal_due's rule, which the
close note names too: an assay's at its close; a deployment's not at the first Running of a
crash loop (Running for a poll between its Errors, reopened flapping: the same trouble) but
once healthy for half its approval TTL, well before it expires. And only while nothing else of
the pipeline alerts (another assay, its deployment, the storm's group): until then Approve
works as for any request.

The withdrawal is a compare-and-set from pending, audited as the bot (an intent row first:
fail closed); only its winner tells the alert's thread, staged with the move so the note goes
out whatever fails next, and an Approve that wins the race is carried out and the thread never
says withdrawn. The poller withdraws them after each round of reminders; an Approve pressed
once it is due is refused for the same reason (requests.decide). An episode closed for a
reason (unwatched, unsubscribed, disabled) withdraws nothing: somebody ended it, not the
trouble, and what they asked for is still theirs to decide."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from handlers.alerting.groups import pipeline_of
from handlers.alerting.staging import enqueue_for_episode
from handlers.approvals.following import refresh_message
from handlers.context import BOT_ACTOR, Services
from handlers.render.alert_messages import REMEDIATED, details_of
from handlers.render.alert_notes import thread_note
from handlers.render.alert_remediation import withdrawal_due, withdrawn_note
from handlers.render.approval_messages import OUTLIVED
from handlers.render.times import when
from storage.alerts import AlertEpisode, EpisodeKind, get_episode, open_episodes, pipeline_subject
from storage.approvals import ApprovalRequest, ApprovalState, move, pending_requests
from storage.audit import AuditEntry, AuditUnavailable, Outcome, outcome_target
from storage.outbox import OutboxKind

logger = logging.getLogger(__name__)


async def outlived_because(
    session: AsyncSession, request: ApprovalRequest, now: datetime
) -> str | None:
    """Why the request is stale as its alert recovered on its own since it was asked and is
    due to be withdrawn by now (withdrawal_due), or None (not from an alert, the alert still
    open or recovered too lately to rule out a crash loop, closed for a reason, remediated,
    or another alert of its pipeline still open)."""
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
    if now < withdrawal_due(request, episode.subject, episode.closed_at, settled=settled):
        return None  # a deployment's breach now may be its crash loop: the same trouble
    if await _still_alerting(session, request, episode):
        return None
    alert = f"{OUTLIVED}{episode.id} ({episode.title})"
    return f"{alert} recovered on its own at {when(episode.closed_at)}, before anyone decided"


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
    now = services.clock()
    found = []
    try:
        async with services.sessions() as session:
            for request in await pending_requests(session, now):
                why = await outlived_because(session, request, now)
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
    winner tells, when `outlived`, its alert's thread (staged with the move, one transaction:
    the note goes out whatever fails next), writes the outcome row and edits its message
    (both tried even if the other fails: the request is no longer pending, nothing retries)."""
    intent = await _audit(services, request, Outcome.INTENT, why)
    async with services.sessions() as session:
        won = await move(
            session,
            request.id or 0,
            from_states=[ApprovalState.PENDING],
            to_state=ApprovalState.STALE,
            commit=False,
            decision_note=why,
        )
        if won and outlived:
            await _stage_withdrawn_note(session, request)
        await session.commit()
    if not won:
        await _audit(services, request, Outcome.REFUSED, "already decided", intent)
        return False
    try:
        await _audit_outcome(services, request, why, intent)
    finally:
        await refresh_message(services, request.id or 0)
    return True


async def _stage_withdrawn_note(session: AsyncSession, request: ApprovalRequest) -> None:
    episode = await get_episode(session, request.episode_id or 0)
    if episode is not None:
        note = thread_note(withdrawn_note(request, details_of(episode).get("remedy")))
        await enqueue_for_episode(session, episode, OutboxKind.THREAD, note)


async def _audit_outcome(
    services: Services, request: ApprovalRequest, why: str, intent: AuditEntry
) -> None:
    """The withdrawal's `ok` row, tried a few times (the move is done: a passing lock or
    hiccup must not leave only its intent); logged, not raised, if it still fails."""
    try:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(AuditUnavailable),
            stop=stop_after_attempt(3),
            wait=wait_exponential(multiplier=0.2),
            reraise=True,
        ):
            with attempt:
                await _audit(services, request, Outcome.OK, why, intent)
    except AuditUnavailable as exc:
        logger.error(
            "request %s is withdrawn (stale) but its ok row is not audited: %s", request.id, exc
        )


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
