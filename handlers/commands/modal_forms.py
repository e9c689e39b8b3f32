"""Commands that open a modal instead of answering: `deploy` with no arguments and `assay create
WS PIPELINE` with no options. The router checks the role first (a viewer is told before any
form opens) and audits the opening; the submissions are handlers/interactions/*_modal.py.

Where no modal can open (the console, a command without a trigger id, Slack refusing the
trigger) `open` answers None and the router answers the typed form as it always did.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from handlers.chat import ChatError
from handlers.commands.arguments_alerts import AssayCreate
from handlers.commands.assay_options import (
    DEFAULTS,
    METRICS,
    OPTIONS,
    REQUIRED,
    V1_IOPATH,
    V2_IOPATH,
)
from handlers.commands.grammar import Command, ParseError
from handlers.commands.lookup import find_pipeline, find_workspace
from handlers.context import Context, Services
from handlers.render.modals import assay_view, deploy_view

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Form:
    area: str  # the command the form submits, whose role it needs
    action: str
    verb: str  # as refusals name it
    open: Callable[[Context], Awaitable[str | None]]  # the view's id, or None: none opened


def form_for(text: str, parsed: Command | ParseError) -> Form | None:
    """The form this command opens, or None for one that is answered as typed."""
    words = [word.lower() for word in text.split()]
    if words[:1] == ["/wallaroo"]:
        words = words[1:]
    if words == ["deploy"]:
        return Form("deployments", "deploy", "deploy", _open_deploy)
    args = parsed.args if isinstance(parsed, Command) else None
    if isinstance(args, AssayCreate) and not args.options:
        return Form("assays", "create", "assay create", partial(_open_assay, args))
    return None


async def open_deploy_form(services: Services, trigger_id: str, origin_channel: str) -> str | None:
    """Open "Request a deploy" (from the command, or from App Home with no channel: then the
    form asks where to post the request unless an approval channel is set)."""
    ask_channel = not origin_channel and not services.settings.chatops_approval_channel
    return await _open(services, trigger_id, deploy_view(origin_channel, ask_channel=ask_channel))


async def _open_deploy(ctx: Context) -> str | None:
    return await open_deploy_form(ctx.services, ctx.actor.trigger_id, ctx.actor.channel_id)


async def _open_assay(args: AssayCreate, ctx: Context) -> str | None:
    if not ctx.actor.trigger_id:
        return None
    client = ctx.services.wallaroo
    # Unknown names are answered now, as the typed form would, before any form opens.
    workspace = await find_workspace(client, args.workspace)
    pipeline = (await find_pipeline(client, workspace, args.pipeline)).pipeline
    v2 = await client.uses_assays_v2()
    defaults = DEFAULTS | {
        "iopath": V2_IOPATH if v2 else V1_IOPATH,
        "name": f"{pipeline.name} assay",
    }
    view = assay_view(
        (workspace.name, workspace.id),
        (pipeline.name, pipeline.id),
        defaults,
        assay_fields(),
        METRICS,
        ctx.actor.channel_id,
    )
    return await _open(ctx.services, ctx.actor.trigger_id, view)


def assay_fields() -> list[tuple[str, str, str, bool]]:
    """The form's inputs, in the typed form's order: key, label, placeholder, required."""
    return [
        (o.key, o.key, f"{o.takes}, e.g. {o.example.strip(chr(34))}", o.key in REQUIRED)
        for o in OPTIONS
    ]


async def _open(services: Services, trigger_id: str, view: dict[str, Any]) -> str | None:
    if not trigger_id:
        return None
    try:
        return await services.chat.open_view(trigger_id, view)
    except ChatError as exc:
        # An expired trigger (over 3 s) or a view Slack refuses: the typed answer still helps.
        logger.warning("opening a modal failed: %s", exc)
        return None
