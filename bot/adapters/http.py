"""HTTP mode (`wallaroo-chatops serve`): POST /slack/events, GET /healthz, /readyz, /metrics."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.adapters.body_limit import BodyLimit
from bot.adapters.slack_app import build_slack_app
from bot.adapters.slack_guard import SlackGuard
from bot.background import background_work
from bot.logs import new_request_id
from bot.services import open_services
from bot.settings import Settings
from bot.wallaroo import WallarooError
from handlers.context import Services
from storage.database import describe_database_error
from storage.leases import hold_lease
from storage.utc import utc_now

# Readiness probes come often and must answer fast; a slow Wallaroo counts as not ready.
READY_TIMEOUT_SECONDS = 3.0
# The lease row /readyz renews to show the database takes a write (no poller holds it).
READY_HEARTBEAT = "readyz-heartbeat"


def create_http_app(settings: Settings, clock: Callable[[], datetime] = utc_now) -> Starlette:
    """The app `serve` runs; `clock` is the services' (tests run it in-process on their own)."""

    # Starlette, not FastAPI: four plain routes need no validation layer, and FastAPI's import
    # alone cost the process 7 MiB of its memory budget (bench/poll.py prints the peak).
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with (
            open_services(settings, clock=clock) as services,
            background_work(services) as poller,
        ):
            app.state.services = services
            app.state.slack = AsyncSlackRequestHandler(build_slack_app(services))
            app.state.guard = SlackGuard(services)
            app.state.poller = poller
            # Everything built so far (modules, the Slack app, Alembic's and SQLAlchemy's
            # caches) lives as long as the process: moving it out of the garbage collector's
            # reach keeps full collections short during a burst of commands. With Alembic
            # loaded and no freeze, bench/ack.py's p99 went from 42 ms to 150 ms.
            gc.collect()
            gc.freeze()
            yield

    async def slack_events(request: Request) -> Response:
        # The guard checks the signature and the 5-minute window (401), the body (400), the
        # team and app (401) and replays; bolt then reads the same body (Starlette keeps it).
        new_request_id("slack-")
        started = time.perf_counter()
        refusal = await request.app.state.guard.refusal(request.headers, await request.body())
        response = refusal or await request.app.state.slack.handle(request)
        request.app.state.services.metrics.ack_seconds.observe(time.perf_counter() - started)
        return response

    async def metrics(request: Request) -> Response:
        registry = request.app.state.services.metrics.registry
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    async def healthz(request: Request) -> JSONResponse:
        """Alive: the process answers."""
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        """Ready: the database answers and Wallaroo lets the service account in."""
        checks = await readiness(request.app.state.services)
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)

    routes = [
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    limit = Middleware(BodyLimit, max_bytes=settings.chatops_max_request_bytes)
    return Starlette(routes=routes, lifespan=lifespan, middleware=[limit])


async def readiness(services: Services) -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        # A committed write, not a SELECT: a read-only or full database still answers reads,
        # and a bot that cannot write its audit log changes nothing (it is not ready).
        async with services.sessions() as session:
            await hold_lease(session, READY_HEARTBEAT, READY_HEARTBEAT, 0)
        checks["database"] = "ok"
    except SQLAlchemyError as exc:
        reason = describe_database_error(exc) or type(exc).__name__
        checks["database"] = f"does not take a write: {reason}"
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await services.wallaroo.list_features()
        checks["wallaroo"] = "ok"
    except (WallarooError, TimeoutError) as exc:
        # WallarooError's text carries no credentials; a timeout has none to carry.
        checks["wallaroo"] = str(exc) or "timed out"
    return checks


async def run_socket_mode(settings: Settings) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    if settings.slack_app_token is None:
        raise SystemExit(
            "Socket Mode needs SLACK_APP_TOKEN (an xapp- token with connections:write)"
        )
    async with open_services(settings) as services, background_work(services):
        app = build_slack_app(services)
        app.use(SlackGuard(services).socket_mode_middleware)  # team, app and replays
        handler = AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())
        gc.collect()
        gc.freeze()  # as in HTTP mode: long-lived objects out of the collector's way
        await handler.start_async()
