"""The buttons on an alert: Acknowledge, Snooze 4 h / 24 h (operators), Run assay now and
Disable assay (the same as typing `assay run ID` / `assay disable ID`, with their checks), and
the remediation ones, Roll back to version X / Undeploy (operators): an ordinary approval
request, as `rollback` / `undeploy` make, linked to the episode (remediation.py).
In a group message (a storm) each line has its own buttons, naming its own episode: the click
changes that episode, and the edit it stages is the group message's (staging.py)."""

from __future__ import annotations

import time
from datetime import timedelta

from bot.wallaroo import PipelineListing
from handlers.alerting.remediation import REMEDY, link_to_episode, request_id_of
from handlers.alerting.staging import enqueue_for_episode
from handlers.approvals.requests import request_change, request_rollback
from handlers.commands.lookup import find_workspace
from handlers.commands.router import handle_command
from handlers.context import (
    Actor,
    Answer,
    CommandProblem,
    Context,
    Services,
    answer_for_error,
    record_click,
    record_intent,
    unaudited_reply,
)
from handlers.render.alert_messages import (
    ACK_ACTION,
    DISABLE_ASSAY_ACTION,
    RUN_ASSAY_ACTION,
    SNOOZE_4H_ACTION,
    SNOOZE_24H_ACTION,
    details_of,
    is_assay,
    render_episode,
    summary,
)
from handlers.render.alert_remediation import ROLLBACK_ACTION, UNDEPLOY_ACTION
from handlers.render.blocks import Reply, error_reply, ok_reply
from handlers.render.mrkdwn import escape
from storage.alerts import get_episode
from storage.audit import AuditUnavailable, Outcome
from storage.outbox import OutboxKind
from storage.roles import Role, allows, effective_role

SNOOZES = {SNOOZE_4H_ACTION: 4, SNOOZE_24H_ACTION: 24}
REMEDIES = {ROLLBACK_ACTION: "rollback", UNDEPLOY_ACTION: "undeploy"}
AS_COMMANDS = {RUN_ASSAY_ACTION: "assay run", DISABLE_ASSAY_ACTION: "assay disable"}
KNOWN_ACTIONS = {ACK_ACTION, *SNOOZES, *REMEDIES, *AS_COMMANDS}


async def handle_alert_click(
    services: Services, actor: Actor, action: str, episode_id: int
) -> Reply:
    if action not in KNOWN_ACTIONS:
        return await _refuse_unknown(services, actor, action, episode_id)
    async with services.sessions() as session:
        episode = await get_episode(session, episode_id)
    if episode is None:
        return error_reply(f"There is no alert episode #{episode_id}.")
    if action in AS_COMMANDS:
        if not is_assay(episode):  # drift, or no data from the assay
            return error_reply("That button only works on assay alerts.")
        assay_id = episode.subject.partition(":")[2]
        return await handle_command(services, actor, f"{AS_COMMANDS[action]} {assay_id}")
    if action in REMEDIES:
        return await remediate(services, actor, action, episode_id)
    return await _acknowledge_or_snooze(services, actor, action, episode_id)


async def _refuse_unknown(services: Services, actor: Actor, action: str, episode_id: int) -> Reply:
    """A button this bot does not make (from a message an older or newer version of it
    posted): refused, and audited, before anything is written for it."""
    await record_click(
        services,
        actor,
        text=f"[button] {action} episode {episode_id}",
        area="alerts",
        action="unknown",
        target=f"episode {episode_id}",
        outcome=Outcome.INVALID,
        started=None,
    )
    return error_reply(
        f"Unknown alert button `{escape(action)}` (the message may be from another version of "
        "the bot): nothing was done. Use Acknowledge, Snooze, Run assay now, Disable assay, "
        "Roll back or Undeploy on the alert, or the matching `/wallaroo` command."
    )


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


async def remediate(services: Services, actor: Actor, action: str, episode_id: int) -> Reply:
    """Roll back / Undeploy from an alert: the request `rollback` / `undeploy` would make (its
    reason naming the alert), linked to the episode, whose message then follows it."""
    started = time.perf_counter()
    verb = REMEDIES[action]
    text = f"[button] {verb} episode {episode_id}"
    async with services.sessions() as session:
        role = await effective_role(session, actor.user_id, services.admins)
    if not allows(role, Role.OPERATOR):
        reply = error_reply(f"Remediation is requested by operators; you are *{role}*.")
        await record_click(
            services,
            actor,
            text=text,
            area="alerts",
            action=verb,
            target=f"episode {episode_id}",
            outcome=Outcome.REFUSED,
            started=started,
        )
        return reply
    try:
        intent = await record_intent(services, actor, text=text, area="alerts", action=verb)
    except AuditUnavailable as exc:
        return unaudited_reply(exc)
    wallaroo_error = None
    try:
        answer = await _ask(Context(services, actor, role), action, episode_id)
    except Exception as exc:  # the one ladder every command's failure goes through
        answer, wallaroo_error = answer_for_error(services, exc, text)
    request_id = request_id_of(answer.target) if answer.outcome == Outcome.OK else None
    if request_id is not None:
        await link_to_episode(services, request_id, episode_id)
    await record_click(
        services,
        actor,
        text=text,
        area="alerts",
        action=verb,
        target=answer.target or f"episode {episode_id}",
        outcome=answer.outcome,
        started=started,
        wallaroo_error=wallaroo_error,
        intent=intent,
    )
    return answer.reply


async def _ask(ctx: Context, action: str, episode_id: int) -> Answer:
    async with ctx.services.sessions() as session:
        episode = await get_episode(session, episode_id)
    assert episode is not None  # episodes are never deleted; the caller found it
    remedy = details_of(episode).get(REMEDY)
    if not episode.is_open:
        raise CommandProblem("That episode is already closed.")
    target: dict | None = (remedy or {}).get("rollback_to")
    if remedy is None or (action == ROLLBACK_ACTION and target is None):
        raise CommandProblem("This alert offers no such remediation.")
    client = ctx.services.wallaroo
    workspace = await find_workspace(client, int(remedy["workspace_id"]))
    listing = await client.find_listed_pipeline(workspace.id, int(remedy["pipeline_id"]))
    if listing is None:
        raise CommandProblem(f"Pipeline *{escape(remedy['pipeline_name'])}* no longer exists.")
    # The request names the alert that prompted it (escaped where shown, as any reason).
    reason = f"From alert #{episode_id}: {summary(episode)}"
    if target is not None and action == ROLLBACK_ACTION:
        await _refuse_if_live_moved(ctx, workspace.id, listing, remedy)
        return await request_rollback(ctx, workspace, listing, target["version"], reason)
    return await request_change(ctx, "undeploy", workspace, listing, reason)


async def _refuse_if_live_moved(
    ctx: Context, workspace_id: int, listing: PipelineListing, remedy: dict
) -> None:
    """The button names the version before the one live when the alert opened; once another
    went live, it would skip that one: say so and leave the choice to `rollback`."""
    was = remedy.get("from_version")
    if was is None:
        return  # an alert from before the live version was kept: `rollback`'s checks hold
    history = await ctx.services.wallaroo.version_history(workspace_id, listing)
    if history.live_key == was:
        return
    pipeline = escape(listing.pipeline.name)
    raise CommandProblem(
        f"Another version of *{pipeline}* went live since this alert, so its Roll back "
        "would skip it; nothing was requested.",
        f"`/wallaroo versions {escape(listing.workspace.name)} {pipeline}` lists them; "
        f"`/wallaroo rollback {escape(listing.workspace.name)} {pipeline}` rolls back one.",
    )
