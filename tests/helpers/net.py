"""Ports and waiting: what tests over real servers and processes need around them."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import httpx


def free_port() -> int:
    """A loopback port nothing listens on now, for a process that must be told its port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# One client for the tests' own HTTP calls (httpx's clients are thread-safe): a new client per
# call, as httpx.get makes, loads the CA certificates again, ~20 ms of CPU each time.
HTTP = httpx.Client(timeout=10)


def wait_until(predicate: Callable[[], Any], timeout: float = 20.0, every: float = 0.05) -> Any:
    """Poll `predicate` until it returns something truthy (returned), or fail."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(every)


def healthy(url: str) -> bool:
    """Whether a bot process at `url` answers its /healthz yet."""
    try:
        return HTTP.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
