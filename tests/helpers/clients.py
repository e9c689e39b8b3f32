"""The bot's real Wallaroo client as a test drives it, with the traffic it sent recorded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from bot.wallaroo import ServiceAccountAuth, WallarooClient


@dataclass
class Exchange:
    """One request the client sent, as the emulator answered it."""

    path: str
    status: int
    body: Any


@dataclass
class ClientUnderTest:
    client: WallarooClient
    auth: ServiceAccountAuth
    http: httpx.AsyncClient
    exchanges: list[Exchange]
    requested: list[str]

    def sent(self, path_suffix: str) -> list[Exchange]:
        """Answered requests whose path ends so."""
        return [e for e in self.exchanges if e.path.endswith(path_suffix)]

    def attempts(self, path_suffix: str) -> int:
        """Requests sent to a path, answered or not."""
        return sum(path.endswith(path_suffix) for path in self.requested)
