"""Logging for the bot's processes: JSON lines (one object per record, with a request id)
for `serve` and `socket`, plain text for people at a console.

The request id is a context variable: set once where work starts (a Slack request, a poll),
it follows that work into every coroutine and task it spawns, so all its lines share it.
"""

from __future__ import annotations

import logging
import sys
import uuid
from contextvars import ContextVar
from typing import Literal, TextIO

from pythonjsonlogger.json import JsonFormatter

request_id: ContextVar[str] = ContextVar("request_id", default="-")

LogFormat = Literal["json", "text"]


def new_request_id(prefix: str = "") -> str:
    """Start a new unit of work: give it (and what it spawns) a fresh id; returns it."""
    value = f"{prefix}{uuid.uuid4().hex[:12]}"
    request_id.set(value)
    return value


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def configure_logging(
    fmt: LogFormat = "json", level: str = "INFO", stream: TextIO | None = None
) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "{asctime}{levelname}{name}{message}{request_id}",
                style="{",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # Per-request access lines from uvicorn say less than ours and carry no request id.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    return handler
