"""Logging for the bot's processes: JSON lines (one object per record, with a request id)
for `serve` and `socket`, plain text for people at a console.

The request id is a context variable: set once where work starts (a Slack request, a poll),
it follows that work into every coroutine and task it spawns, so all its lines share it.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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


# Slack's response URLs are capabilities: whoever has one can post as the bot for 30 minutes.
_RESPONSE_URL = re.compile(r"https?(?::|%3A)(?:/|%2F){2}hooks\.slack\.com[^\s'\"<>,}]*", re.I)
_RESPONSE_URL_FIELD = re.compile(r"(response_url['\"]?\s*[:=]\s*['\"]?)[^\s'\"&,}]+", re.I)
_SLACK_TOKEN = re.compile(r"\bxox[abprs]-[\w-]+|\bxapp-[\w-]+")
_REDACTED = "[redacted]"
# slack_sdk and bolt log whole requests and answers at DEBUG (messages, users' text, payloads).
_CHATTY_LOGGERS = ("slack_sdk", "slack_bolt", "slack")
_DEBUG_LINE_CHARS = 160


def redact_line(text: str) -> str:
    text = _RESPONSE_URL.sub(_REDACTED, text)
    text = _RESPONSE_URL_FIELD.sub(rf"\1{_REDACTED}", text)
    return _SLACK_TOKEN.sub(_REDACTED, text)


class RedactingFilter(logging.Filter):
    """Keeps capability URLs and tokens out of every line, and message bodies out of the
    Slack libraries' DEBUG lines (cut to their start, which says what was called)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = redact_line(record.getMessage())
        chatty = record.name.split(".")[0] in _CHATTY_LOGGERS
        if chatty and record.levelno <= logging.DEBUG and len(message) > _DEBUG_LINE_CHARS:
            cut = len(message) - _DEBUG_LINE_CHARS
            message = f"{message[:_DEBUG_LINE_CHARS]}… [{cut} characters not logged]"
        record.msg, record.args = message, None
        return True


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def configure_logging(
    fmt: LogFormat = "json", level: str = "INFO", stream: TextIO | None = None
) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactingFilter())
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
    # APScheduler logs every run of every job ("Running job …", "… executed successfully"):
    # eight lines a poll. The poller logs one line per poll with its figures instead; the
    # scheduler's own lines show at DEBUG, and its warnings (missed runs) always.
    debugging = root.getEffectiveLevel() <= logging.DEBUG
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if debugging else logging.WARNING)
    return handler


class _DropMessage(logging.Filter):
    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != self.message


@contextmanager
def bolt_token_warning_silenced(client_token: str | None) -> Iterator[None]:
    """While an AsyncApp is built on our client: bolt reads SLACK_BOT_TOKEN from the
    environment itself (`token = token or os.environ.get("SLACK_BOT_TOKEN")`, with no argument
    to turn that off) and warns "As you gave `client` as well, `token` will be unused" whenever
    both are there. When the client carries that very token nothing goes unused, so that one
    warning is dropped; any other, or a client with another token, still warns."""
    from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

    if client_token is None or os.environ.get("SLACK_BOT_TOKEN") != client_token:
        yield
        return
    bolt_logger = logging.getLogger("slack_bolt.AsyncApp")
    drop = _DropMessage(warning_client_prioritized_and_token_skipped())
    bolt_logger.addFilter(drop)
    try:
        yield
    finally:
        bolt_logger.removeFilter(drop)
