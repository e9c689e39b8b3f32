"""Build the emulator's ASGI app: a local Wallaroo MLOps API for demos, tests and benchmarks."""

from __future__ import annotations

from email.utils import formatdate

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.clock import Clock
from emulator.config import EmulatorConfig
from emulator.errors import install_error_handlers
from emulator.faults import FaultMiddleware
from emulator.identity import BearerAuthMiddleware
from emulator.identity import router as token_router
from emulator.routes import (
    assay_listing,
    assays,
    assays_current,
    assays_v2,
    control,
    inference,
    logs,
    models,
    pipeline_listing,
    pipelines,
    status,
    users,
    workspaces,
)
from emulator.seed import seed_demo
from emulator.state import EmulatorState, build_state


def create_app(config: EmulatorConfig | None = None) -> FastAPI:
    state = build_state(config or EmulatorConfig())
    app = create_app_for_state(state)
    if state.config.seed_demo:
        seed_demo(app, state)
    return app


def create_app_for_state(state: EmulatorState) -> FastAPI:
    app = FastAPI(title="Wallaroo MLOps API emulator", docs_url="/v1/api/docs", redoc_url=None)
    app.state.emulator = state
    install_error_handlers(app)
    # Routes are matched in order: the calls pollers make all day come first.
    for router in (
        status.router,
        token_router,
        users.router,
        workspaces.router,
        models.router,
        pipelines.router,
        pipeline_listing.router,
        logs.router,
        inference.router,
        assays.router,
        assay_listing.router,
        assays_current.router,
        assays_v2.router,
        control.router,
    ):
        app.include_router(router)
    app.add_middleware(BearerAuthMiddleware, state=state)
    # Added last, so outermost: injected latency and errors come before the token check.
    app.add_middleware(FaultMiddleware, injector=state.faults)
    app.add_middleware(DateMiddleware, clock=state.clock)
    return app


class DateMiddleware:
    """Every answer's `Date` is the emulator's clock (moved by the control API), as a real
    Wallaroo's is its own: the bot learns Wallaroo's time from it (assay windows are on it)."""

    def __init__(self, app: ASGIApp, clock: Clock) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def dated(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                date = formatdate(self.clock.now(), usegmt=True).encode("latin-1")
                message = {**message, "headers": [*headers, (b"date", date)]}
            await send(message)

        await self.app(scope, receive, dated)
