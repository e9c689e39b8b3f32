"""The Approve and Reject buttons (and the reject dialog): the same checks, decision and audit
as `approve` / `reject` typed as commands, answered to the clicker alone."""

from __future__ import annotations

import logging
import time

from bot.wallaroo import WallarooError
from handlers.approvals.checks import decision_refusal
from handlers.approvals.requests import Verdict, decide
from handlers.context import (
    Actor,
    Services,
    answer_for_error,
    record_click,
    record_intent,
    unaudited_reply,
)
from handlers.render.blocks import Reply, error_reply
from handlers.render.mrkdwn import escape
from storage.approvals import ApprovalState, get_request
from storage.audit import AuditEntry, AuditUnavailable, Outcome
from storage.roles import effective_role

logger = logging.getLogger(__name__)


async def precheck_click(
    services: Services, actor: Actor, request_id: int, verdict: Verdict, source: str
) -> Reply | None:
    """Before Reject opens its reason dialog: the refusal (audited) if `actor` may not decide
    this request at all, else None. Spares people typing a reason that would be refused."""
    async with services.sessions() as session:
        role = await effective_role(session, actor.user_id, services.admins)
        request = await get_request(session, request_id)
    refusal: tuple[str, str | None] | None
    if request is None:
        refusal = (f"There is no approval request #{request_id}.", None)
    elif request.current_state is not ApprovalState.PENDING or request.is_expired(services.clock()):
        return await handle_click(services, actor, request_id, verdict, source)
    else:
        try:
            refusal = await decision_refusal(services, actor, role, request)
        except WallarooError:
            refusal = None  # let the decision itself report it
    if refusal is None:
        return None
    await _audit_click(services, actor, request_id, verdict, source, Outcome.REFUSED, None)
    return error_reply(*refusal)


async def handle_click(
    services: Services, actor: Actor, request_id: int, verdict: Verdict, source: str
) -> Reply:
    """An Approve/Reject button (or the reject modal): the same checks and audit as commands."""
    started = time.perf_counter()
    async with services.sessions() as session:
        role = await effective_role(session, actor.user_id, services.admins)
    # Fail closed: a decision is a write, so its intent is in the log before it is made.
    try:
        intent = await record_intent(
            services,
            actor,
            text=_click_text(request_id, verdict, source),
            area="approvals",
            action=verdict.verb,
        )
    except AuditUnavailable as exc:
        logger.error("click refused, the audit log cannot be written: %s", exc)
        return unaudited_reply(exc)
    wallaroo_error = None
    try:
        outcome = await decide(services, actor, role, request_id, verdict)
    except Exception as exc:
        outcome, wallaroo_error = answer_for_error(
            services, exc, f"deciding request {request_id}", _nothing_decided
        )
    await _audit_click(
        services,
        actor,
        request_id,
        verdict,
        source,
        outcome.outcome,
        started,
        wallaroo_error,
        intent,
    )
    return outcome.reply


def _nothing_decided(exc: WallarooError) -> Reply:
    message = f"Wallaroo did not answer the check before deciding: {escape(str(exc))}"
    return error_reply(message, "Nothing was decided; try again.")


async def _audit_click(
    services: Services,
    actor: Actor,
    request_id: int,
    verdict: Verdict,
    source: str,
    outcome: Outcome,
    started: float | None,
    wallaroo_error: str | None = None,
    intent: AuditEntry | None = None,
) -> None:
    await record_click(
        services,
        actor,
        text=_click_text(request_id, verdict, source),
        area="approvals",
        action=verdict.verb,
        target=f"request {request_id}",
        outcome=outcome,
        started=started,
        wallaroo_error=wallaroo_error,
        intent=intent,
    )


def _click_text(request_id: int, verdict: Verdict, source: str) -> str:
    reason = f" {verdict.reason}" if verdict.reason else ""
    return f"[{source}] {verdict.verb} {request_id}{reason}"
