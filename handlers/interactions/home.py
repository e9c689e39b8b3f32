"""The App Home tab, read for one user: their role, the requests they may decide, open alert
episodes, watched deployments (rendered by handlers/render/home.py)."""

from __future__ import annotations

from typing import Any

from handlers.approvals.requests import decidable
from handlers.context import Actor, Services
from handlers.render.home import home_page
from storage.alerts import all_health, open_episodes
from storage.roles import effective_role
from storage.watches import list_watches


async def home_view(services: Services, actor: Actor) -> dict[str, Any]:
    async with services.sessions() as session:
        role = await effective_role(session, actor.user_id, services.admins)
        episodes = await open_episodes(session)
        watches = await list_watches(session)
        health = {h.pipeline_id: h.status for h in await all_health(session)}
    requests = await decidable(services, actor, role)
    return home_page(role, requests, episodes, watches, health)
