"""What the benchmarks share: servers in their own processes, and a service-account token."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import aiohttp

CLIENT_ID, CLIENT_SECRET = "api-client", "bench-secret"
TOKEN_PATH = "/auth/realms/master/protocol/openid-connect/token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def server_process(args: list[str], port: int) -> Iterator[tuple[str, int]]:
    """Start a server process; yields its base URL and pid, stops it on exit."""
    process = subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"server {args} did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


async def service_token_headers(session: aiohttp.ClientSession, base: str) -> dict[str, str]:
    """A bearer header for the emulator's service account (client credentials)."""
    basic = {"Authorization": aiohttp.encode_basic_auth(CLIENT_ID, CLIENT_SECRET)}
    async with session.post(
        base + TOKEN_PATH, data={"grant_type": "client_credentials"}, headers=basic
    ) as response:
        response.raise_for_status()
        token = (await response.json())["access_token"]
    return {"Authorization": f"Bearer {token}"}
