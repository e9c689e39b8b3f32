"""How an approval request looks in the channel: what will change, who asked and why, and
Approve / Reject buttons while it is pending; who decided and the live status afterwards."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    MarkdownTextObject,
    PlainTextObject,
)

from handlers.render.blocks import Reply, context, fields, header, section, status_emoji
from handlers.render.mrkdwn import code, escape, truncate, user_mention
from handlers.render.pipeline_versions import VersionChange, change_heading, change_lines
from handlers.render.times import when
from storage.approvals import DEPLOYING_ACTIONS, ApprovalRequest, ApprovalState

APPROVE_ACTION = "approval_approve"
REJECT_ACTION = "approval_reject"
REJECT_REASON_VIEW = "approval_reject_reason"
REJECT_REASON_BLOCK = "reason"
REJECT_REASON_INPUT = "reason_input"

_SENDING = ":hourglass_flowing_sand: Approved by {decider}; sending it to Wallaroo."
_STATE_LINES = {
    ApprovalState.APPROVED: _SENDING,
    ApprovalState.CALLING: _SENDING,
    ApprovalState.FOLLOWING: ":hourglass_flowing_sand: Approved by {decider}; Wallaroo took it.",
    ApprovalState.SUCCEEDED: ":white_check_mark: Approved by {decider}. Done.",
    ApprovalState.FAILED: ":x: Approved by {decider}, but it failed.",
    ApprovalState.REJECTED: ":no_entry: Rejected by {decider}.",
    ApprovalState.EXPIRED: ":hourglass: Expired before anyone decided.",
    ApprovalState.STALE: ":no_entry: Not carried out: the pipeline changed since the request.",
}
# How the staleness of a remediation its alert outlived begins (handlers/approvals/outlived.py):
# it is not that the pipeline changed, and its message says what it is instead.
OUTLIVED = "its alert #"
# What became of an approved request, as the end of "approved by ada; …".
PROGRESS = {
    ApprovalState.APPROVED: "it is about to be sent to Wallaroo",
    ApprovalState.CALLING: "it is being sent to Wallaroo",
    ApprovalState.FOLLOWING: "Wallaroo took it and it is being followed",
    ApprovalState.SUCCEEDED: "it succeeded",
    ApprovalState.FAILED: "it failed",
}


def short_version(version: str | None) -> str:
    """A version UUID as people read it: its first 8 characters (`none` for no version)."""
    return version[:8] if version else "none"


def describe_change(request: ApprovalRequest) -> str:
    """One line, mrkdwn: what approving would do."""
    pipeline = f"*{escape(request.pipeline_name)}*"
    workspace = f"*{escape(request.workspace_name)}*"
    if request.action in DEPLOYING_ACTIONS:
        named = None
        if request.pipeline_version:
            named = f"version {code(short_version(request.pipeline_version))}"
        elif request.pipeline_version_id:
            named = f"version {request.pipeline_version_id}"
        if request.action == "rollback":
            back_to = named or "an earlier version"
            return f"Roll pipeline {pipeline} back to {back_to} in workspace {workspace}"
        version = f" ({named})" if named else ""
        return f"Deploy pipeline {pipeline}{version} in workspace {workspace}"
    return f"Undeploy pipeline {pipeline} (deployment {request.deployment_id}) in {workspace}"


def render_request(
    request: ApprovalRequest, change: VersionChange | None = None, now: datetime | None = None
) -> Reply:
    """The channel message for a request in whatever state it is now; with `change` (when it
    is first posted), what deploying its version changes against the live one. `now` is the
    bot's clock (`services.clock()`: the demo's follows the emulator's), for "(in 59 min)"."""
    state = request.current_state
    title = f"{request.action.capitalize()} request #{request.id}: {request.pipeline_name}"
    pairs = [
        ("Change", describe_change(request)),
        ("Requested by", user_mention(request.requester_id)),
        ("Reason", escape(request.reason) or "_none given_"),
        ("Expires", when(request.expires_at, now=now, relative=state is ApprovalState.PENDING)),
    ]
    blocks: list[Block] = [header(title), *fields(pairs)]
    # The diff against the version live when it was asked, kept with the request, so the
    # message still shows what was decided on after a decision.
    what_changes = change_text(change) if change is not None else request.change_summary
    if what_changes:
        blocks.append(section(truncate(what_changes, 3000)))
    if state is ApprovalState.PENDING:
        blocks.append(_buttons(request, change))
        blocks.append(
            context(
                "An approver or admin other than the requester may decide. "
                f"Or type {code(f'/wallaroo approve {request.id}')}."
            )
        )
    else:
        blocks.append(section(_state_line(request)))
        if request.last_status and not state.is_final:
            emoji = status_emoji(request.last_status)
            blocks.append(context(f"Deployment status: {emoji} {escape(request.last_status)}"))
        if request.outcome:
            blocks.append(context(escape(request.outcome)))
    return Reply(text=summary(request), blocks=blocks, ephemeral=False)


def summary(request: ApprovalRequest) -> str:
    """Plain text: the notification fallback, and the console's line for an edit, so it says
    what the message says: who decided, the reason given, the live status, the outcome."""
    text = f"{request.action.capitalize()} request #{request.id} ({request.pipeline_name}): "
    text += state_phrase(request, request.decided_by_name or request.decided_by or "someone")
    if request.last_status and not request.current_state.is_final:
        text += f"; deployment {request.last_status}"
    if request.outcome:
        text += f". {request.outcome}"
    return text


def state_phrase(request: ApprovalRequest, decider: str) -> str:
    """The request's state as words: `approved by ada; it succeeded`, `rejected by bo: too
    risky`. `decider` is how to name who decided (plain text, or a mention for mrkdwn)."""
    state = request.current_state
    note = request.decision_note or ""
    if state in PROGRESS:
        return f"approved by {decider}; {PROGRESS[state]}"
    if state is ApprovalState.REJECTED:
        return f"rejected by {decider}" + (f": {note}" if note else "")
    if state is ApprovalState.STALE and note.startswith(OUTLIVED):
        return f"not carried out: {note}"
    if state is ApprovalState.STALE:
        return "not carried out, as the pipeline changed since the request" + (
            f" ({note})" if note else ""
        )
    if state is ApprovalState.EXPIRED:
        return "expired before anyone decided"
    return "waiting for an approver"


def render_outcome(request: ApprovalRequest) -> Reply:
    """The thread reply when a request ends after approval."""
    verb = {"deploy": "deployed", "rollback": "rolled back"}.get(request.action, "undeployed")
    name = f"*{escape(request.pipeline_name)}*"
    if request.current_state is ApprovalState.SUCCEEDED:
        message = f":white_check_mark: {name} is {verb}. {escape(request.outcome or '')}"
    else:
        message = f":x: {name} was not {verb}: {escape(request.outcome or 'unknown failure')}"
    return Reply(text=message, blocks=[section(message.strip())], ephemeral=False)


def reject_reason_view(request: ApprovalRequest) -> dict:
    """The modal Reject opens: a reason is required, and the request id rides along."""
    return {
        "type": "modal",
        "callback_id": REJECT_REASON_VIEW,
        "private_metadata": str(request.id),
        "title": {"type": "plain_text", "text": f"Reject request #{request.id}"[:24]},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": REJECT_REASON_BLOCK,
                "label": {"type": "plain_text", "text": "Why reject it?"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": REJECT_REASON_INPUT,
                    "multiline": True,
                    "min_length": 3,
                    "max_length": 500,
                },
            }
        ],
    }


def change_text(change: VersionChange) -> str:
    """The model-step diff as one mrkdwn text: a heading, then a line per change."""
    return "\n".join([change_heading(change), *change_lines(change)])


def _buttons(request: ApprovalRequest, version_change: VersionChange | None) -> ActionsBlock:
    change = describe_change(request)
    if version_change is not None and version_change.runs_no_model:
        change += ". It runs no model"
    approve = ButtonElement(
        text=PlainTextObject(text="Approve"),
        action_id=APPROVE_ACTION,
        value=str(request.id),
        style="primary",
        confirm=ConfirmObject(
            title=PlainTextObject(text=f"Approve #{request.id}?"),
            # Slack allows 300 characters here.
            text=MarkdownTextObject(text=truncate(f"{change}. This changes production.", 300)),
            confirm=PlainTextObject(text="Approve"),
            deny=PlainTextObject(text="Cancel"),
        ),
    )
    reject = ButtonElement(
        text=PlainTextObject(text="Reject"),
        action_id=REJECT_ACTION,
        value=str(request.id),
        style="danger",
    )
    return ActionsBlock(block_id=f"approval-{request.id}", elements=[approve, reject])


def _state_line(request: ApprovalRequest) -> str:
    decider = user_mention(request.decided_by) if request.decided_by else "someone"
    note = request.decision_note or ""
    if request.current_state is ApprovalState.STALE and note.startswith(OUTLIVED):
        return f":no_entry: Not carried out: {escape(note)}."
    line = _STATE_LINES[request.current_state].format(decider=decider)
    if request.decision_note:
        line += f" _{escape(request.decision_note)}_"
    return line


def row_of(request: ApprovalRequest, now: datetime | None = None) -> str:
    reason = f" — _{escape(request.reason)}_" if request.reason else ""
    return (
        f"*#{request.id}* {describe_change(request)}, asked by "
        f"{user_mention(request.requester_id)}, "
        f"expires {when(request.expires_at, now=now, relative=True)}{reason}"
    )
