"""Bolt listeners for the "Upload to Wallaroo" message shortcut and its modal; what they do is
in handlers/interactions/model_upload.py."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from handlers.context import BOT_FAILED, Actor, Services
from handlers.interactions.forms import submitter
from handlers.interactions.model_upload import (
    check_submission,
    deliver,
    run_submission,
    shortcut_used,
)
from handlers.render.blocks import Reply, error_reply
from handlers.render.model_upload import UPLOAD_CALLBACK, UPLOAD_VIEW

logger = logging.getLogger(__name__)


def register_upload(app: AsyncApp, services: Services) -> None:
    @app.shortcut(UPLOAD_CALLBACK)
    async def upload_shortcut(ack: AsyncAck, body: dict, respond: AsyncRespond) -> None:
        await ack()
        try:
            message = body.get("message") if isinstance(body.get("message"), dict) else {}
            trigger = str(body.get("trigger_id") or "")
            reply = await shortcut_used(services, _actor(body), message or {}, trigger)
        except Exception:
            logger.exception("the upload shortcut failed")
            reply = error_reply(BOT_FAILED)
        if reply is not None:
            await _tell(respond, reply)

    @app.view(UPLOAD_VIEW)
    async def upload_submitted(ack: AsyncAck, body: dict) -> None:
        actor = _actor(body)
        checked = await check_submission(services, actor, body.get("view") or {})
        if isinstance(checked, dict):
            await ack(response_action="errors", errors=checked)
            return
        await ack()  # the modal closes; the upload's progress shows in the channel
        actor = dataclasses.replace(actor, channel_id=checked.channel)
        try:
            reply = await run_submission(services, actor, checked)
        except Exception:
            logger.exception("the upload modal's upload failed")
            reply = error_reply(BOT_FAILED)
        await deliver(services, actor, checked.channel, reply)


def _actor(body: dict[str, Any]) -> Actor:
    return submitter(body, str((body.get("channel") or {}).get("id") or ""))


async def _tell(respond: AsyncRespond, reply: Reply) -> None:
    message = reply.to_slack()
    await respond(
        text=message["text"],
        blocks=message.get("blocks"),
        response_type="ephemeral",
        replace_original=False,
    )
