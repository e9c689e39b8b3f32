"""How alerts look: the episode's one message (rebuilt from the episode on every edit), the
thread replies (escalation, reminder, recovery) and the Wallaroo-unreachable notices.

`episode.detail` holds what the latest event said (JSON): for an assay the thresholds, window
and the bins that moved most; for a deployment its workspace and status details; for a "no
data" episode since when the subject is silent. Sticky keys outlive those rewrites: `group`
(the group episode showing this one, handlers/render/alert_groups.py), `flapping`/`flips`/
`ok_since` (handlers/alerting/flapping.py) and `closed_reason`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, PlainTextObject

from bot.wallaroo import DeploymentState
from handlers.render.alert_owners import runbook_and_owner
from handlers.render.alert_remediation import (
    may_remediate,
    remediation_buttons,
    remediation_line,
)
from handlers.render.blocks import Reply, context, fields, header, section, status_emoji
from handlers.render.mrkdwn import escape, user_mention
from handlers.render.times import when
from storage.alerts import AlertEpisode, EpisodeKind
from storage.approvals import ApprovalRequest

ACK_ACTION = "alert_ack"
SNOOZE_4H_ACTION = "alert_snooze_4h"
SNOOZE_24H_ACTION = "alert_snooze_24h"
RUN_ASSAY_ACTION = "alert_run_assay"
DISABLE_ASSAY_ACTION = "alert_disable_assay"
REMEDIATED = "remediated"  # detail key: how the linked request put it right (mrkdwn)
# Detail keys of remediation (handlers/alerting/): the last linked request over when a flapping
# episode reopened (it and older ones are the earlier trouble's); a rollback still following
# when the deployment was seen Running (credited if it succeeds).
REQUESTS_BEFORE_REOPEN = "requests_before_reopen"
CREDIT_ON_SUCCESS = "credit_on_success"
_DEPLOYMENT_PROBLEMS: dict[str, str] = {
    DeploymentState.ERROR: "is in Error",
    DeploymentState.STARTING: "has been Starting for too long",
    DeploymentState.GONE: "is no longer deployed (not undeployed through this bot)",
}


STICKY_DETAILS = (
    "group",
    "flapping",
    "flips",
    "ok_since",
    "settled",
    "closed_reason",
    "remedy",  # what the alert offers (handlers/alerting/remediation.py)
    REMEDIATED,
    REQUESTS_BEFORE_REOPEN,
    CREDIT_ON_SUCCESS,
)


def details_of(episode: AlertEpisode) -> dict[str, Any]:
    return json.loads(episode.detail) if episode.detail else {}


def with_sticky(episode: AlertEpisode, detail: dict[str, Any]) -> str:
    """`detail` as the episode's new JSON, keeping the sticky keys it already had."""
    kept = {k: v for k, v in details_of(episode).items() if k in STICKY_DETAILS}
    return json.dumps({**detail, **kept})


def is_assay(episode: AlertEpisode) -> bool:
    """Whether the episode is about an assay (drift, or no data from it)."""
    return episode.subject.startswith("assay:")


def render_episode(
    episode: AlertEpisode, now: datetime, remediation: ApprovalRequest | None = None
) -> Reply:
    """The episode's message as it should read now; `remediation` is the approval request its
    Roll back / Undeploy made, as it is now (staging.render_current reads it)."""
    blocks = episode_blocks(episode)
    if remediation is not None:
        blocks.append(context(remediation_line(remediation, details_of(episode).get("remedy"))))
    if episode.is_open:
        notes = []
        if episode.acknowledged_by:
            notes.append(f"Acknowledged by {user_mention(episode.acknowledged_by)}.")
        if episode.is_snoozed(now) and episode.snoozed_until is not None:
            until = when(episode.snoozed_until, now=now, relative=True)
            notes.append(f"Snoozed until {until}.")
        if notes:
            blocks.append(context(" ".join(notes)))
        blocks.append(buttons(episode, remediation))
    else:
        closed = when(episode.closed_at) if episode.closed_at else "now"
        reason = details_of(episode).get("closed_reason")
        remediated = details_of(episode).get(REMEDIATED)
        if remediated:  # mrkdwn, escaped when it was made (remediation_text)
            blocks.append(context(f":white_check_mark: Remediated at {closed}: {remediated}"))
        elif reason:
            blocks.append(context(f":white_circle: Closed at {closed}: {escape(reason)}."))
        else:
            blocks.append(context(f":white_check_mark: Recovered at {closed}; episode closed."))
    text = summary(episode)
    if remediation is not None:  # the console's line for an edit shows the text only
        remedy = details_of(episode).get("remedy")
        text += " · " + remediation_line(remediation, remedy, plain=True)
    return Reply(text=text, blocks=blocks, ephemeral=False)


def episode_blocks(episode: AlertEpisode) -> list[Block]:
    """The episode's own blocks, without its notes and buttons; a flapping one says so."""
    if episode.kind == EpisodeKind.NO_DATA:
        blocks = _no_data_blocks(episode)
    elif episode.kind == EpisodeKind.ASSAY:
        blocks = _assay_blocks(episode)
    else:
        blocks = _deployment_blocks(episode)
    flapping = flapping_note(episode)
    if flapping:
        blocks.insert(1, context(flapping))
    # Its own message's opening post is rendered before Slack has it (no ts yet).
    extras = runbook_and_owner(details_of(episode), mention=episode.message_ts is None)
    if extras:
        blocks.append(context(extras))
    return blocks


def flapping_note(episode: AlertEpisode) -> str:
    """`:repeat: Flapping ...` for an episode that recovered and breached again, else ""."""
    detail = details_of(episode)
    if not detail.get("flapping"):
        return ""
    note = f":repeat: *Flapping*: breached again after recovering ({detail.get('flips', 1)}x)"
    if detail.get("ok_since") and episode.is_open:
        note += f"; Ok since {when(detail['ok_since'])}, closes if it stays Ok"
    return note + "."


def summary(episode: AlertEpisode) -> str:
    """Plain text: the notification fallback and the console's line for an edit."""
    state = episode.severity
    if not episode.is_open:
        state = "closed" if details_of(episode).get("closed_reason") else "recovered"
        if details_of(episode).get(REMEDIATED):
            state = "remediated"
    if details_of(episode).get("flapping"):
        state += ", flapping"
    if episode.kind == EpisodeKind.NO_DATA:
        what = "Assay" if is_assay(episode) else "Deployment"
        return f"{what} {episode.title}: no data ({state})"
    if episode.kind == EpisodeKind.GROUP:
        return f"Pipeline {episode.title}: {state}"
    if episode.kind == EpisodeKind.ASSAY:
        score = f", latest score {episode.latest_score:.4f}" if episode.latest_score else ""
        return (
            f"Assay {episode.title}: {state} ({episode.count} breaching result(s)"
            f"{score}, worst {episode.worst_score or 0:.4f})"
        )
    return f"Deployment {episode.title}: {state}"


def _assay_blocks(episode: AlertEpisode) -> list[Block]:
    detail = details_of(episode)
    emoji = status_emoji(episode.severity)
    title = f"{episode.severity}: drift on assay “{episode.title}”"
    pairs = [
        ("Latest score", f"{emoji} {score_text(episode.latest_score)}"),
        ("Worst score", score_text(episode.worst_score)),
        (
            "Thresholds",
            f"warning {score_text(detail.get('warning_threshold'))} · "
            f"alert {score_text(detail.get('alert_threshold'))}",
        ),
        ("Breaching results", str(episode.count)),
        ("Pipeline", escape(detail.get("pipeline_name", ""))),
        ("Latest window", escape(_window(detail.get("window", "")))),
    ]
    blocks: list[Block] = [header(title), *fields(pairs)]
    moved = detail.get("moved_bins") or []
    if moved:
        lines = [
            f"• `{escape(b['name'])}`: baseline {b['baseline']:.3f} → window {b['window']:.3f}"
            for b in moved
        ]
        blocks.append(section("*Bins that moved most*\n" + "\n".join(lines)))
    return blocks


def _no_data_blocks(episode: AlertEpisode) -> list[Block]:
    detail = details_of(episode)
    if is_assay(episode):
        title = f"No data: assay “{episode.title}” has produced no new result"
        pairs = [
            ("Latest result", escape(when(detail.get("last_result")))),
            ("Expected every", escape(detail.get("expected_every", "?"))),
            ("Pipeline", escape(detail.get("pipeline_name", ""))),
        ]
        if detail.get("next_run"):
            pairs.append(("Next run (overdue)", escape(when(detail["next_run"]))))
    else:
        title = f"No data: the status of deployment {episode.title} cannot be read"
        pairs = [
            ("Workspace", escape(detail.get("workspace_name", ""))),
            ("Since", escape(when(detail.get("since")))),
            ("Polls without a status", str(episode.count)),
        ]
    blocks: list[Block] = [header(title), *fields(pairs)]
    if detail.get("details"):
        blocks.append(context(escape(detail["details"])))
    return blocks


def _deployment_blocks(episode: AlertEpisode) -> list[Block]:
    detail = details_of(episode)
    gone = episode.severity == DeploymentState.GONE
    emoji = status_emoji(DeploymentState.ERROR if gone else episode.severity)
    problem = _DEPLOYMENT_PROBLEMS.get(episode.severity, f"is {episode.severity}")
    title = f"Deployment {episode.title} {problem}"
    pairs = [
        ("Status", f"{emoji} {escape(episode.severity)}"),
        ("Workspace", escape(detail.get("workspace_name", ""))),
        ("Since", escape(when(detail.get("since")))),
        ("Polls in this state", str(episode.count)),
    ]
    blocks: list[Block] = [header(title), *fields(pairs)]
    if detail.get("details"):
        blocks.append(context(escape(detail["details"])))
    return blocks


def buttons(episode: AlertEpisode, remediation: ApprovalRequest | None = None) -> ActionsBlock:
    """The episode's buttons: each names the episode, so in a group message they act on their
    own line's episode. Roll back / Undeploy while no remediation of it is under way."""
    value = str(episode.id)
    elements = [
        ButtonElement(text=PlainTextObject(text="Acknowledge"), action_id=ACK_ACTION, value=value),
        ButtonElement(
            text=PlainTextObject(text="Snooze 4 h"), action_id=SNOOZE_4H_ACTION, value=value
        ),
        ButtonElement(
            text=PlainTextObject(text="Snooze 24 h"), action_id=SNOOZE_24H_ACTION, value=value
        ),
    ]
    if is_assay(episode):
        elements += [
            ButtonElement(
                text=PlainTextObject(text="Run assay now"), action_id=RUN_ASSAY_ACTION, value=value
            ),
            ButtonElement(
                text=PlainTextObject(text="Disable assay"),
                action_id=DISABLE_ASSAY_ACTION,
                value=value,
                style="danger",
            ),
        ]
    if episode.kind != EpisodeKind.NO_DATA and may_remediate(remediation):
        elements += remediation_buttons(value, details_of(episode).get("remedy"))
    return ActionsBlock(block_id=f"episode-{episode.id}", elements=elements)


def _window(window: str) -> str:
    """`start → end` as stored (Wallaroo's ISO times), each end in the one format."""
    ends = window.split(" → ") if window else []
    return " → ".join(when(end) if end != "?" else end for end in ends)


def score_text(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "—"
