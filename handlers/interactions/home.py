"""The App Home tab, read for one user: their role, the requests they may decide, open alert
episodes, watched deployments (rendered by handlers/render/home.py); and its "Request a deploy"
button, which opens the same modal as `/wallaroo deploy` alone."""

from __future__ import annotations

import time
from typing import Any

from handlers.approvals.requests import decidable
from handlers.commands.modal_forms import open_deploy_form
from handlers.commands.permissions import required_role
from handlers.context import Actor, Services, record_click
from handlers.render.home import home_page
from handlers.render.modals import notice_view
from storage.alerts import EpisodeKind, all_health, open_episodes
from storage.audit import Outcome
from storage.roles import allows, effective_role
from storage.watches import list_watches


async def home_view(services: Services, actor: Actor) -> dict[str, Any]:
    async with services.sessions() as session:
        role = await effective_role(session, actor.user_id, services.admins)
        # A storm's group episode only holds its members' message: the members are the alerts.
        episodes = [e for e in await open_episodes(session) if e.kind != EpisodeKind.GROUP]
        watches = await list_watches(session)
        health = {h.pipeline_id: h.status for h in await all_health(session)}
    requests = await decidable(services, actor, role)
    return home_page(role, requests, episodes, watches, health)


async def request_deploy_clicked(services: Services, actor: Actor, trigger_id: str) -> None:
    """Open "Request a deploy", or, for a user who could not submit it, say so in its place
    (the button is shown to operators only, but a tab can be older than a revoked role)."""
    started = time.perf_counter()
    async with services.sessions() as session:
        role = await effective_role(session, actor.user_id, services.admins)
    needed = required_role("deployments", "deploy")
    if allows(role, needed):
        view_id = await open_deploy_form(services, trigger_id, "")
        outcome = Outcome.OK if view_id else Outcome.ERROR
        target = f"form {view_id}" if view_id else "the form did not open"
    else:
        text = f"Requesting a deploy needs the *{needed}* role; you are *{role}*."
        await services.chat.open_view(trigger_id, notice_view("Request a deploy", text))
        outcome, target = Outcome.REFUSED, f"needs {needed}"
    await record_click(
        services,
        actor,
        text="[button] request a deploy",
        area="deployments",
        action="deploy",
        target=target,
        outcome=outcome,
        started=started,
    )
