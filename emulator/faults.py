"""Latency and error injection per path prefix, and a count of the calls each path received,
as a plain ASGI middleware (cheap when idle)."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass(frozen=True)
class Fault:
    path_prefix: str
    latency_ms: float = 0.0
    error_rate: float = 0.0
    status: int = 503
    # Let the call take effect first, then answer the error instead of the real answer: a
    # gateway timing out on a backend that did the work (the bot must not take it as refused).
    after_effect: bool = False


class FaultInjector:
    def __init__(self, seed: int | None = None) -> None:
        self.faults: list[Fault] = []
        # Calls received per path, faulted ones included: what tests read to prove that a
        # deploy was sent exactly once.
        self.received: Counter[str] = Counter()
        self._random = random.Random(seed)

    def add(self, fault: Fault) -> None:
        self.faults.append(fault)

    def clear(self) -> None:
        self.faults.clear()

    def forget_calls(self) -> None:
        self.received.clear()

    def matching(self, path: str) -> list[Fault]:
        return [f for f in self.faults if path.startswith(f.path_prefix)]

    def should_fail(self, fault: Fault) -> bool:
        return fault.error_rate > 0 and self._random.random() < fault.error_rate


class FaultMiddleware:
    def __init__(self, app: ASGIApp, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/emulator/"):
            await self.app(scope, receive, send)
            return
        self.injector.received[path] += 1
        if not self.injector.faults:
            await self.app(scope, receive, send)
            return
        for fault in self.injector.matching(path):
            if fault.latency_ms > 0:
                await asyncio.sleep(fault.latency_ms / 1000)
            if self.injector.should_fail(fault):
                if fault.after_effect:
                    await self.app(scope, receive, _discarding)
                await _send_error(send, fault.status)
                return
        await self.app(scope, receive, send)


async def _discarding(message: dict) -> None:
    """Swallows the real answer of a call whose error is sent after it took effect."""


async def _send_error(send: Send, status: int) -> None:
    body = json.dumps({"msg": f"injected fault: HTTP {status}", "code": status}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
