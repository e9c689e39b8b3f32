"""Serving an ASGI app with uvicorn: in the foreground (CLI) or in a thread (tests, demo, bench)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp


def _config(
    app: ASGIApp, host: str, port: int, log_level: str, lifespan: str = "off"
) -> uvicorn.Config:
    # No `Date` of uvicorn's own: the emulator's answers carry its clock's (emulator/app.py),
    # as a real server's carry its own, and the bot reads Wallaroo's time from it.
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan=lifespan,
        date_header=False,
    )


def serve_forever(
    app: ASGIApp, host: str, port: int, log_level: str = "info", lifespan: str = "off"
) -> None:
    uvicorn.Server(_config(app, host, port, log_level, lifespan)).run()


@contextmanager
def serve_in_thread(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 0,
    log_level: str = "warning",
    lifespan: str = "off",
) -> Iterator[str]:
    """Serve `app` on a free port in a daemon thread; yields its base URL, stops on exit."""
    server = uvicorn.Server(_config(app, host, port, log_level, lifespan))
    # uvicorn installs signal handlers only on the main thread; a thread must not try.
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"could not start a server on {host}:{port}")
        threading.Event().wait(0.01)
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
