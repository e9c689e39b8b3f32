"""The buttons on an alert: Acknowledge, Snooze 4 h / 24 h (operators), Run assay now and
Disable assay (the same as typing `assay run ID` / `assay disable ID`, with their checks).
In a group message (a storm) each line has its own buttons, naming its own episode: the click
changes that episode, and the edit it stages is the group message's (staging.py)."""

from __future__ import annotations

import time
from datetime import timedelta

from handlers.alerting.staging import enqueue_for_episode
from handlers.commands.router import handle_command
from handlers.context import Actor, Services, record_click, record_intent, unaudited_reply
from handlers.render.alert_messages import (
    ACK_ACTION,
    DISABLE_ASSAY_ACTION,
    RUN_ASSAY_ACTION,
    SNOOZE_4H_ACTION,
    SNOOZE_24H_ACTION,
    is_assay,
    render_episode,
)
from handlers.render.blocks import Reply, error_reply, ok_reply
from handlers.render.mrkdwn import escape
from storage.alerts import get_episode
from storage.audit import AuditUnavailable, Outcome
from storage.outbox import OutboxKind
from storage.roles import Role, allows, effective_role

SNOOZES = {SNOOZE_4H_ACTION: 4, SNOOZE_24H_ACTION: 24}
AS_COMMANDS = {RUN_ASSAY_ACTION: "assay run", DISABLE_ASSAY_ACTION: "assay disable"}


async def handle_alert_click(
    services: Services, actor: Actor, action: str, episode_id: int
) -> Reply:
    async with services.sessions() as session:
        episode = await get_episode(session, episode_id)
    if episode is None:
        return error_reply(f"There is no alert episode #{episode_id}.")
    if action in AS_COMMANDS:
        if not is_assay(episode):  # drift, or no data from the assay
            return error_reply("That button only works on assay alerts.")
        assay_id = episode.subject.partition(":")[2]
        return await handle_command(services, actor, f"{AS_COMMANDS[action]} {assay_id}")
    return await _acknowledge_or_snooze(services, actor, action, episode_id)


async def _acknowledge_or_snooze(
    services: Services, actor: Actor, action: str, episode_id: int
) -> Reply:
    started = time.perf_counter()
    verb = "acknowledge" if action == ACK_ACTION else f"snooze {SNOOZES.get(action, 0)}h"
    text = f"[button] {verb} episode {episode_id}"
    async with services.sessions() as session:
        role = await effective_role(session, actor.user_id, services.admins)
    intent = None
    if allows(role, Role.OPERATOR):
        # Fail closed: the change's intent is in the log before the episode is touched.
        try:
            intent = await record_intent(
                services, actor, text=text, area="alerts", action=verb.split()[0]
            )
        except AuditUnavailable as exc:
            return unaudited_reply(exc)
    async with services.sessions() as session:
        role = await effective_role(session, actor.user_id, services.admins)
        episode = await get_episode(session, episode_id)
        assert episode is not None
        if not allows(role, Role.OPERATOR):
            reply, outcome = (
                error_reply(f"Alerts are acknowledged and snoozed by operators; you are *{role}*."),
                Outcome.REFUSED,
            )
        elif not episode.is_open:
            reply, outcome = error_reply("That episode is already closed."), Outcome.INVALID
        else:
            now = services.clock()
            if action == ACK_ACTION:
                episode.acknowledged_by = actor.user_id
                message = f"Acknowledged *{escape(episode.title)}*: no more reminders."
            else:
                hours = SNOOZES[action]
                episode.snoozed_until = now + timedelta(hours=hours)
                message = f"Snoozed *{escape(episode.title)}* for {hours} h."
            session.add(episode)
            await enqueue_for_episode(
                session, episode, OutboxKind.UPDATE, render_episode(episode, now)
            )
            await session.commit()
            reply, outcome = ok_reply(message), Outcome.OK
    await record_click(
        services,
        actor,
        text=text,
        area="alerts",
        action=verb.split()[0],
        target=f"episode {episode_id}",
        outcome=outcome,
        started=started,
        intent=intent,
    )
    return reply
