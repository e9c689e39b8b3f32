"""How an alert shows the remediation its Roll back / Undeploy buttons asked for: one line on
the episode's message following the linked approval request (requested by, approved by,
rolling back, Running on version X), and what a remediated episode's close says.

Each comes as mrkdwn (the blocks: mentions, escaped names) or as plain text (the message's
`text`, the notification fallback and the console's line for an edit; escaped when sent).
`remedy` is the episode's detail of that name (handlers/alerting/remediation.py): it names the
version the button offered by its UUID and its number by age, as `versions` lists it (1 = the
first made: stable, so a saved "rolled back to version 1" stays true as versions are made).
An alert stored before that numbering has no `number` and is named by its UUID alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import ButtonElement, PlainTextObject

from handlers.render.mrkdwn import escape, user_mention
from handlers.render.pipeline_versions import short
from handlers.render.times import when
from storage.approvals import ApprovalRequest, ApprovalState

ROLLBACK_ACTION = "alert_rollback"  # `alert_`: Slack's and the console's alert-click routes
UNDEPLOY_ACTION = "alert_undeploy"
DEPLOYMENT_SUBJECT = "pipeline:"  # storage.alerts.pipeline_subject: a deployment's alert
IN_FLIGHT = (ApprovalState.APPROVED, ApprovalState.CALLING, ApprovalState.FOLLOWING)


def remediation_text(
    request: ApprovalRequest, remedy: dict[str, Any] | None, *, plain: bool = False
) -> str:
    """What the request did: `rolled back to version 1 (abc123) by request #4 (requested by
    @a, approved by @b)`."""
    if request.action == "undeploy":
        what = "undeployed"
    else:
        what = f"rolled back to {_version_name(request, remedy, plain)}"
    return f"{what} by request #{request.id} ({_who(request, plain)})"


def remediation_line(
    request: ApprovalRequest, remedy: dict[str, Any] | None, *, plain: bool = False
) -> str:
    """The remediation's progress, as the request is now."""
    version = _version_name(request, remedy, plain)
    undeploy = request.action == "undeploy"
    named = f"{'Undeploy' if undeploy else f'Roll back to {version}'}: request #{request.id}"
    state, who = request.current_state, _who(request, plain)
    if state is ApprovalState.PENDING:
        emoji, line = ":arrows_counterclockwise:", f"{named}, {who}; waiting for approval."
    elif state in IN_FLIGHT:
        doing = "undeploying" if undeploy else "rolling back"
        emoji, line = ":hourglass_flowing_sand:", f"{named}, {who}; {doing}."
    elif state is ApprovalState.SUCCEEDED:
        done = "Undeployed" if undeploy else f"Running on {version}"
        emoji, line = ":white_check_mark:", f"{done} (request #{request.id}, {who})."
    else:
        why = request.outcome or request.decision_note
        because = f": {why if plain else escape(why)}" if why else ""
        emoji, line = ":x:", f"{named} {state.value}{because} ({who})."
    return line if plain else f"{emoji} {line}"


def withdrawal_due(
    request: ApprovalRequest, subject: str, closed_at: datetime, *, settled: bool = False
) -> datetime:
    """When a pending remediation whose alert (about `subject`) closed at `closed_at` is
    withdrawn as stale if the alert stays healthy (handlers/approvals/outlived.py). An assay's
    at the close: its results come a window (an hour, a day) apart, so no crash loop flips it
    within minutes, and flapping it closed only once settled, as any settled episode. A
    deployment's once healthy for half the request's approval time (with the defaults that is
    min(CHATOPS_FLAP_WINDOW_SECONDS, TTL/2)): a crash loop flips back within minutes, and
    read off the request alone the close note and the withdrawal always agree. At or after
    `request.expires_at` it just expires."""
    if settled or not subject.startswith(DEPLOYMENT_SUBJECT):
        return closed_at
    return closed_at + (request.expires_at - request.created_at) / 2


def outlived_note(request: ApprovalRequest, remedy: dict[str, Any] | None, due: datetime) -> str:
    """The close of an alert whose remediation nobody decided yet, withdrawn only at `due`
    (withdrawal_due): what will happen to it, whichever comes first."""
    named = f":hourglass: {_named(request, remedy)} is still waiting for approval."
    if due >= request.expires_at:
        return f"{named} It expires at {when(request.expires_at)} unless approved."
    return (
        f"{named} It will be withdrawn as stale at {when(due)} if this alert stays healthy; "
        "until then it may still be approved."
    )


def withdrawn_note(request: ApprovalRequest, remedy: dict[str, Any] | None) -> str:
    """Told by the withdrawal that won (handlers/approvals/outlived.py), not before."""
    return (
        f":warning: {_named(request, remedy)} is withdrawn (stale): this alert recovered on "
        "its own first. `rollback` or `undeploy` asks again if it is still wanted."
    )


def finishing_note(request: ApprovalRequest, remedy: dict[str, Any] | None) -> str:
    """The close of a deployment alert seen Running while its rollback is being followed."""
    return (
        f":hourglass_flowing_sand: {_named(request, remedy)} is finishing: this episode says "
        "remediated once it succeeds."
    )


def _named(request: ApprovalRequest, remedy: dict[str, Any] | None) -> str:
    if request.action == "undeploy":
        return f"Undeploy request #{request.id}"
    return f"Request #{request.id} to roll back to {_version_name(request, remedy, False)}"


def _version_name(request: ApprovalRequest, remedy: dict[str, Any] | None, plain: bool) -> str:
    target = (remedy or {}).get("rollback_to") or {}
    shown = short(request.pipeline_version or "")
    shown = shown if plain else f"`{escape(shown)}`"
    if target.get("version") == request.pipeline_version and "number" in target:
        return f"version {target['number']} ({shown})"
    return f"version {shown}"


def _who(request: ApprovalRequest, plain: bool) -> str:
    def person(user_id: str, name: str | None) -> str:
        return (name or user_id) if plain else user_mention(user_id)

    who = f"requested by {person(request.requester_id, request.requester_name)}"
    if request.decided_by and request.current_state is not ApprovalState.EXPIRED:
        verb = "rejected" if request.current_state is ApprovalState.REJECTED else "approved"
        who += f", {verb} by {person(request.decided_by, request.decided_by_name)}"
    return who


# A remediation that ended without changing anything may be asked for again.
RETRYABLE = (
    ApprovalState.REJECTED,
    ApprovalState.EXPIRED,
    ApprovalState.STALE,
    ApprovalState.FAILED,
)


def may_remediate(request: ApprovalRequest | None) -> bool:
    """Whether the buttons are offered: no remediation asked for yet, or one that changed
    nothing (a second one pending would be refused anyway, as `rollback` twice is)."""
    return request is None or request.current_state in RETRYABLE


def remediation_buttons(value: str, remedy: dict[str, Any] | None) -> list[ButtonElement]:
    """Roll back to the version live before the current one (named; only when there is one)
    and Undeploy (only when deployed: there is no remedy otherwise). `value` is the episode."""
    if not remedy:
        return []
    found = []
    target = remedy.get("rollback_to")
    if target:
        shown = short(target["version"])
        named = f"{target['number']} ({shown})" if "number" in target else shown
        label = f"Roll back to version {named}"
        found.append(
            ButtonElement(text=PlainTextObject(text=label), action_id=ROLLBACK_ACTION, value=value)
        )
    found.append(
        ButtonElement(
            text=PlainTextObject(text="Undeploy"),
            action_id=UNDEPLOY_ACTION,
            value=value,
            style="danger",
        )
    )
    return found
