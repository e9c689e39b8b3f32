"""A storm's one message: the episodes of one pipeline in one channel (several assays breaching
in one poll, or a pipeline and its assays), one line each, each line with its own buttons.

The buttons stay per line, not per group: each line's episode has its own subject, recovery and
reminders, so acknowledging one assay must not silence another that breaches later; the
clicks reach the line's episode as on a message of its own (same action ids and values).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from slack_sdk.models.blocks import Block

from handlers.render.alert_messages import (
    REMEDIATED,
    buttons,
    details_of,
    flapping_note,
    summary,
)
from handlers.render.alert_owners import runbook_and_owner
from handlers.render.alert_remediation import remediation_line
from handlers.render.blocks import Reply, context, header, section, status_emoji
from handlers.render.mrkdwn import escape, user_mention
from handlers.render.times import when
from storage.alerts import AlertEpisode, EpisodeKind
from storage.approvals import ApprovalRequest

# Slack takes 50 blocks a message; a line takes up to three (text, notes, buttons).
MAX_LINES = 14


def render_group(
    group: AlertEpisode,
    members: list[AlertEpisode],
    now: datetime,
    remediations: Mapping[int | None, ApprovalRequest | None] | None = None,
) -> Reply:
    """The group message as it should read now: open lines first, then the recovered ones;
    `remediations` are the members' linked approval requests (Roll back / Undeploy), by id."""
    shown = sorted(members, key=lambda m: (not m.is_open, m.id or 0))
    open_count = sum(1 for m in members if m.is_open)
    title = f"{open_count} open alert(s) on pipeline {group.title}"
    if not group.is_open:
        title = f"Alerts on pipeline {group.title}: all recovered"
    blocks: list[Block] = [header(title)]
    opening = group.message_ts is None  # its post, rendered before Slack has it
    for member in shown[:MAX_LINES]:
        blocks += _line(member, now, opening, (remediations or {}).get(member.id))
    if len(shown) > MAX_LINES:
        blocks.append(context(f"…and {len(shown) - MAX_LINES} more (see App Home)."))
    if not group.is_open and group.closed_at is not None:
        blocks.append(context(f":white_check_mark: Closed at {when(group.closed_at)}."))
    text = f"Pipeline {group.title}: " + "; ".join(
        _plain_line(m, (remediations or {}).get(m.id)) for m in shown[:MAX_LINES]
    )
    return Reply(text=text, blocks=blocks, ephemeral=False)


def _line(
    member: AlertEpisode, now: datetime, opening: bool, remediation: ApprovalRequest | None
) -> list[Block]:
    """A member's line; its owner is mentioned only in the group's opening post."""
    remedied = [context(_remediation_note(member, remediation))] if remediation else []
    if not member.is_open:
        return [section(f":white_check_mark: ~{escape(summary(member))}~"), *remedied]
    emoji = status_emoji(member.severity)
    if member.kind == EpisodeKind.NO_DATA:
        emoji = ":grey_question:"
    blocks: list[Block] = [section(f"{emoji} {escape(summary(member))}")]
    notes = [flapping_note(member)] if flapping_note(member) else []
    if member.acknowledged_by:
        notes.append(f"Acknowledged by {user_mention(member.acknowledged_by)}.")
    if member.is_snoozed(now) and member.snoozed_until is not None:
        notes.append(f"Snoozed until {when(member.snoozed_until, now=now, relative=True)}.")
    extras = runbook_and_owner(details_of(member), mention=opening)
    if extras:
        notes.append(extras)
    if notes:
        blocks.append(context(" ".join(notes)))
    blocks += remedied
    blocks.append(buttons(member, remediation))
    return blocks


def _plain_line(member: AlertEpisode, remediation: ApprovalRequest | None) -> str:
    if remediation is None:
        return summary(member)
    remedy = details_of(member).get("remedy")
    line = remediation_line(remediation, remedy, plain=True).rstrip(".")  # lines join with ;
    return f"{summary(member)} · {line}"


def _remediation_note(member: AlertEpisode, remediation: ApprovalRequest) -> str:
    remedied = details_of(member).get(REMEDIATED)
    if remedied and not member.is_open:
        return f":white_check_mark: Remediated: {remedied}"
    return remediation_line(remediation, details_of(member).get("remedy"))
