"""A Wallaroo that answers exactly what a real instance once did: each path a literal JSON
body, served over real HTTP on 127.0.0.1 (port 0), token endpoint included. For the answers the
emulator does not give (out of order, another model's versions, `null` bodies), so the bot's
real client parses them as it would from a real instance."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from bot.settings import Settings
from bot.wallaroo import ServiceAccountAuth, WallarooClient, build_http_client
from tests.helpers.databases import migrated_sqlite

TOKEN_PATH = "/auth/realms/master/protocol/openid-connect/token"
TOKEN = {"access_token": "recorded-token", "expires_in": 300, "token_type": "Bearer"}


@dataclass
class RecordedWallaroo:
    """Answers by path (`/v1/api/models/list_versions`, `/v2/api/assays/get_results`); the
    bodies the client sent are kept, in order, per path."""

    url: str
    answers: dict[str, Any]
    sent: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return self.url + "/v1/api"

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    def bot_settings(self, db_dir: Path) -> Settings:
        """Settings for a whole bot (`open_services`) against this server, UADMIN its admin."""
        return Settings(
            wallaroo_api_url=self.api_url,
            wallaroo_token_url=self.token_url,
            wallaroo_client_secret="secret",
            wallaroo_username=None,
            wallaroo_password=None,
            database_url=migrated_sqlite(db_dir / "chatops.db"),
            chatops_admins="UADMIN",
        )

    def client(self, http: httpx.AsyncClient) -> WallarooClient:
        auth = ServiceAccountAuth(http, self.token_url, "bot", "secret")
        return WallarooClient(http, self.api_url, auth, backoff_seconds=0.01)


def _handler(recorded: dict[str, RecordedWallaroo]) -> Callable[..., Any]:
    async def answer(request: web.Request) -> web.Response:
        if request.path == TOKEN_PATH:
            return web.json_response(TOKEN)
        server = recorded["server"]
        if request.path not in server.answers:
            return web.json_response({"msg": "Not Found", "code": 404}, status=404)
        raw = await request.read()
        server.sent.setdefault(request.path, []).append(json.loads(raw) if raw else None)
        # json.dumps, not json_response: a recorded `null` must go out as the text `null`.
        text = json.dumps(server.answers[request.path])
        return web.Response(text=text, content_type="application/json")

    return answer


class RecordedServers:
    """`async with RecordedServers() as servers`, then `await servers.start(answers)` ->
    (the server, the bot's real client against it); all are closed on leaving."""

    def __init__(self) -> None:
        self._runners: list[web.AppRunner] = []
        self._https: list[httpx.AsyncClient] = []

    async def __aenter__(self) -> RecordedServers:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        for http in self._https:
            await http.aclose()
        for runner in self._runners:
            await runner.cleanup()

    async def start(self, answers: dict[str, Any]) -> tuple[RecordedWallaroo, WallarooClient]:
        holder: dict[str, RecordedWallaroo] = {}
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", _handler(holder))
        runner = web.AppRunner(app)
        await runner.setup()
        self._runners.append(runner)
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = runner.addresses[0][1]
        holder["server"] = RecordedWallaroo(f"http://127.0.0.1:{port}", answers)
        http = build_http_client(timeout_seconds=5.0)
        self._https.append(http)
        return holder["server"], holder["server"].client(http)
