"""The "Create an assay" modal's submission: every option checked at once by the typed form's
own checks (handlers/commands/assay_options.py), each bad one named under its input, then run
as `assay create WS PIPELINE key=value ...` with the options given."""

from __future__ import annotations

import logging
from typing import Any

from bot.wallaroo import WallarooError
from handlers.commands.arguments_alerts import AssayCreate
from handlers.commands.assay_options import OPTIONS, option_problems
from handlers.commands.grammar import Command
from handlers.context import Services
from handlers.interactions.forms import (
    FORGED,
    Submission,
    audit_form,
    chosen,
    metadata_channel,
    metadata_id,
    plain,
    read_metadata,
    role_refusal,
    submitter,
    typed,
)
from handlers.render.modals import ASSAY_BLOCK
from storage.audit import Outcome

logger = logging.getLogger(__name__)
Errors = dict[str, str]
FIRST_BLOCK = ASSAY_BLOCK + OPTIONS[0].key  # where a problem with the whole form is said


def form_options(view: dict[str, Any]) -> dict[str, str]:
    """The options filled in, as typed ones would be: empty inputs are left out (their
    defaults apply), the metric is the chosen one."""
    options = {}
    for option in OPTIONS:
        block = ASSAY_BLOCK + option.key
        value = typed(view, block, option.key) or chosen(view, block, option.key)
        if value:
            options[option.key] = value
    return options


async def check_assay(services: Services, body: dict[str, Any]) -> tuple[Errors, Submission | None]:
    view = body.get("view") or {}
    metadata = read_metadata(view.get("private_metadata")) or {}
    workspace_id, pipeline_id = metadata_id(metadata, "w"), metadata_id(metadata, "p")
    origin = metadata_channel(metadata)
    actor = submitter(body, origin or "")
    if workspace_id is None or pipeline_id is None or origin is None:
        await audit_form(
            services, actor, "assay create", "assays", "create", Outcome.INVALID, FORGED
        )
        return {FIRST_BLOCK: FORGED}, None
    refusal = await role_refusal(services, actor, "assays", "create")
    if refusal is not None:
        await audit_form(
            services, actor, "assay create", "assays", "create", Outcome.REFUSED, refusal
        )
        return {FIRST_BLOCK: refusal}, None
    options = form_options(view)
    try:
        v2 = await services.wallaroo.uses_assays_v2()
    except WallarooError as exc:
        logger.warning("checking an assay form failed: %s", exc)
        return {FIRST_BLOCK: plain(f"Wallaroo did not answer ({exc.msg}); try again.")}, None
    problems = option_problems(options, v2=v2)
    if problems:
        return {ASSAY_BLOCK + key: plain(problem) for key, problem in problems.items()}, None
    args = AssayCreate(workspace=workspace_id, pipeline=pipeline_id, options=options)
    typed_options = " ".join(f"{key}={_quoted(value)}" for key, value in options.items())
    said = f"assay create {workspace_id} {pipeline_id} {typed_options}"
    command = Command("assays", "create", args, said)
    return {}, Submission(actor, f"[modal] {said}", command)


def _quoted(value: str) -> str:
    return f'"{value}"' if any(ch.isspace() for ch in value) else value
