"""HTTP mode (`wallaroo-chatops serve`): POST /slack/events and GET /healthz."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler

from bot.services import open_services
from bot.settings import Settings
from bot.slack_app import build_slack_app


def create_http_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_services(settings) as services:
            app.state.slack = AsyncSlackRequestHandler(build_slack_app(services))
            yield

    app = FastAPI(title="Wallaroo ChatOps", lifespan=lifespan, docs_url=None, redoc_url=None)

    @app.post("/slack/events")
    async def slack_events(request: Request) -> Response:
        # bolt checks the signature and the 5-minute window, answering 401 otherwise.
        return await request.app.state.slack.handle(request)

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}

    return app


async def run_socket_mode(settings: Settings) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    if settings.slack_app_token is None:
        raise SystemExit(
            "Socket Mode needs SLACK_APP_TOKEN (an xapp- token with connections:write)"
        )
    async with open_services(settings) as services:
        handler = AsyncSocketModeHandler(
            build_slack_app(services), settings.slack_app_token.get_secret_value()
        )
        await handler.start_async()
