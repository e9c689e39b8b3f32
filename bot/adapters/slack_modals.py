"""The bolt listeners of the modals: the deploy form's select options (`block_suggestion`,
answered in the HTTP response), its and the assay form's submissions (`view_submission`), and
App Home's "Request a deploy" button. /slack/events' guard (slack_guard.py) has checked the
signature, team and app of each before bolt sees it; the handlers check the user's role."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from handlers.context import BOT_FAILED, Actor, Services
from handlers.interactions.assay_modal import FIRST_BLOCK, check_assay
from handlers.interactions.deploy_modal import check_deploy, pipeline_options, workspace_options
from handlers.interactions.forms import (
    CHECK_SECONDS,
    SLOW,
    Submission,
    audit_form,
    run_submission,
    submitter,
)
from handlers.interactions.home import request_deploy_clicked
from handlers.render.modals import (
    ASSAY_VIEW,
    DEPLOY_PIPELINE,
    DEPLOY_VIEW,
    DEPLOY_WORKSPACE,
    HOME_DEPLOY_ACTION,
)
from storage.audit import Outcome

logger = logging.getLogger(__name__)
Check = Callable[[Services, dict[str, Any]], Awaitable[tuple[dict[str, str], Submission | None]]]


@dataclass(frozen=True)
class Form:
    check: Check
    first_block: str  # where a problem with the whole form is said
    audited_as: tuple[str, str, str]  # the command, area and action its audit rows name


DEPLOY_FORM = Form(check_deploy, DEPLOY_WORKSPACE, ("deploy", "deployments", "deploy"))
ASSAY_FORM = Form(check_assay, FIRST_BLOCK, ("assay create", "assays", "create"))


def register_modals(app: AsyncApp, services: Services) -> None:
    @app.options(DEPLOY_WORKSPACE)
    async def workspace_suggested(ack: AsyncAck, body: dict) -> None:
        if not _user(body):
            await ack(options=[])
            return
        await ack(options=await workspace_options(services, _typed(body)))

    @app.options(DEPLOY_PIPELINE)
    async def pipeline_suggested(ack: AsyncAck, body: dict) -> None:
        view = body.get("view")
        if not _user(body) or not isinstance(view, dict):
            await ack(options=[])
            return
        await ack(options=await pipeline_options(services, view, _typed(body)))

    @app.view(DEPLOY_VIEW)
    async def deploy_submitted(ack: AsyncAck, body: dict) -> None:
        await _submitted(services, ack, body, DEPLOY_FORM)

    @app.view(ASSAY_VIEW)
    async def assay_submitted(ack: AsyncAck, body: dict) -> None:
        await _submitted(services, ack, body, ASSAY_FORM)

    @app.action(HOME_DEPLOY_ACTION)
    async def home_deploy_clicked(ack: AsyncAck, body: dict) -> None:
        await ack()
        actor = submitter(body)
        try:
            await request_deploy_clicked(services, actor, str(body.get("trigger_id") or ""))
        except Exception:  # the tab has nowhere to say it; the log does
            logger.exception("opening the deploy form from App Home failed")


async def _submitted(services: Services, ack: AsyncAck, body: dict[str, Any], form: Form) -> None:
    """Answer the form within Slack's 3 s (its errors, or closed), then run what it asked.
    A check still waiting for Wallaroo then is cancelled: after Slack gave up on the answer,
    nothing the form asked may run."""
    try:
        errors, submission = await asyncio.wait_for(form.check(services, body), CHECK_SECONDS)
    except TimeoutError:
        logger.warning("checking a %s form took over %s s", form.audited_as[0], CHECK_SECONDS)
        await ack(response_action="errors", errors={form.first_block: SLOW})
        name, area, action = form.audited_as
        await audit_form(services, submitter(body), name, area, action, Outcome.ERROR, SLOW)
        return
    except Exception:
        logger.exception("checking a form failed")
        await ack(response_action="errors", errors={form.first_block: BOT_FAILED})
        return
    if submission is None:
        await ack(response_action="errors", errors=errors)
        return
    await ack()
    await run_submission(services, submission)


def _user(body: dict[str, Any]) -> Actor | None:
    actor = submitter(body)
    return actor if actor.user_id else None


def _typed(body: dict[str, Any]) -> str:
    value = body.get("value")
    return value[:100] if isinstance(value, str) else ""
