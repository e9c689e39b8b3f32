"""Fixtures: the emulator served over real HTTP on 127.0.0.1 (port 0), and the bot's client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import Settings
from bot.wallaroo import ServiceAccountAuth, WallarooClient, build_http_client
from emulator.app import create_app_for_state
from emulator.config import EmulatorConfig
from emulator.onnx_models import linear_regression_onnx
from emulator.seed import seed_demo
from emulator.server import serve_in_thread
from emulator.state import EmulatorState, build_state
from storage.database import make_engine, session_factory
from storage.migrate import upgrade_database
from tests.postgres import create_database, postgres_server

TOKEN_PATH = "/auth/realms/master/protocol/openid-connect/token"


@dataclass
class Emulator:
    url: str
    config: EmulatorConfig
    state: EmulatorState
    # One client for the tests' raw calls: a new httpx client per call costs an SSL context.
    http: httpx.Client
    # The ids seed_demo made, when started with seed_demo=True.
    demo: dict[str, Any] | None = None

    @property
    def api_url(self) -> str:
        return self.url + "/v1/api"

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    def control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.post(f"{self.url}/emulator/{path}", json=body or {})
        response.raise_for_status()
        return response.json()

    def token(self, username: str | None = None, password: str | None = None) -> str:
        data = {"grant_type": "client_credentials"}
        if username is not None:
            data = {"grant_type": "password", "username": username, "password": password or ""}
        response = self.http.post(
            self.token_url, data=data, auth=(self.config.client_id, self.config.client_secret)
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def api(self, username: str | None = None, password: str | None = None) -> Api:
        return Api(self.api_url, self.token(username, password), self.http)

    def admin(self) -> Api:
        return self.api(self.config.admin_email, self.config.admin_password)

    def bot_settings(self, db_dir: Path, **overrides: Any) -> Settings:
        """Settings for a bot using this emulator's service account, UADMIN its admin."""
        values: dict[str, Any] = {
            "wallaroo_api_url": self.api_url,
            "wallaroo_token_url": self.token_url,
            "wallaroo_client_secret": self.config.client_secret,
            "wallaroo_username": None,
            "wallaroo_password": None,
            "database_url": f"sqlite:///{db_dir}/chatops.db",
            "chatops_admins": "UADMIN",
            # Deploys are followed quickly in tests; the emulator's clock decides when they run.
            "chatops_deploy_poll_seconds": 0.05,
        }
        return Settings(**(values | overrides))

    def new_demo_pipeline(self, name: str) -> dict[str, Any]:
        """A new pipeline running the demo's model (what `pipelines/copy` did, which today's
        Wallaroo no longer has): pipelines/create's answer."""
        assert self.demo is not None
        admin = self.admin()
        versions = admin.ok(
            "models/list_versions",
            {"model_id": "housepricemodel", "models_pk_id": self.demo["model_id"]},
        )
        step = {"name": "housepricemodel", "version": versions[-1]["model_version"]}
        step["sha"] = versions[-1]["sha"]
        definition = {"id": name, "steps": [{"ModelInference": {"models": [step]}}]}
        body = {"pipeline_id": name, "workspace_id": self.demo["workspace_id"]}
        return admin.ok("pipelines/create", body | {"definition": definition})

    def live_deployment(self, name: str) -> dict[str, Any] | None:
        """Pipeline `name`'s deployment as the listing shows it (either API mode's shape), or
        None when it has none or shows it undeployed."""
        assert self.demo is not None
        listed = self.admin().ok(
            "pipelines/list_pipelines", {"workspace_id": self.demo["workspace_id"]}
        )["pipelines"]
        (item,) = [item for item in listed if item["pipeline"]["name"] == name]
        # Today's items carry it beside the pipeline; the seed's extension inside it.
        deployment = item.get("deployment") or item["pipeline"].get("deployment")
        return deployment if deployment and deployment.get("deployed", True) else None

    def calls_to(self, path: str) -> int:
        """How many calls the emulator has received on `path` (e.g. /v1/api/pipelines/deploy)."""
        response = self.http.get(f"{self.url}/emulator/requests")
        response.raise_for_status()
        return int(response.json()["counts"].get(path, 0))


@dataclass
class Api:
    """Raw calls to the emulator's MLOps API with one user's token."""

    api_url: str
    token: str
    http: httpx.Client

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        if "json" not in kwargs and "content" not in kwargs and "files" not in kwargs:
            kwargs["json"] = {} if body is None else body
        return self.http.post(f"{self.api_url}/{path}", headers=headers, **kwargs)

    def ok(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        response = self.post(path, body, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="session")
def start_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Emulator]]:
    """Start an emulator with the given config overrides; all stop at the end of the session."""
    servers: list[AbstractContextManager[str]] = []
    with ExitStack() as stack:
        http = stack.enter_context(httpx.Client(timeout=10))
        # Stopped all at once: one by one, the session's ~100 emulators took ~40 s to stop.
        stack.callback(_stop_all, servers)

        def start(**overrides: Any) -> Emulator:
            model_dir = tmp_path_factory.mktemp("models")
            config = replace(
                EmulatorConfig(model_dir=model_dir, deployment_startup_seconds=5.0, api="seed"),
                **overrides,
            )
            state = build_state(config)
            app = create_app_for_state(state)
            demo = seed_demo(app, state) if config.seed_demo else None
            server = serve_in_thread(app)
            url = server.__enter__()
            servers.append(server)
            return Emulator(url, config, state, http, demo)

        yield start


def _stop_all(servers: list[AbstractContextManager[str]]) -> None:
    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(lambda server: server.__exit__(None, None, None), servers))


@pytest.fixture
def api_mode() -> str:
    """Which Wallaroo the `emulator` fixture answers as. The tutorial's ("seed") unless a module
    overrides this fixture: end-to-end modules parametrize it over both modes (`both_api_modes`),
    tests of today's shapes pin "current"."""
    return "seed"


# A module that runs against both generations of the API says `api_mode = both_api_modes`.
both_api_modes = pytest.fixture(scope="module", params=["current", "seed"])(
    lambda request: request.param
)


@pytest.fixture(scope="session")
def shared_emulators(start_emulator: Callable[..., Emulator]) -> dict[str, Emulator]:
    """One long-lived emulator per API mode, started on first use."""
    return {}


@pytest.fixture
def shared_emulator(
    shared_emulators: dict[str, Emulator], start_emulator: Callable[..., Emulator], api_mode: str
) -> Emulator:
    if api_mode not in shared_emulators:
        shared_emulators[api_mode] = start_emulator(api=api_mode)
    return shared_emulators[api_mode]


@pytest.fixture
def emulator(shared_emulator: Emulator) -> Emulator:
    """The session's emulator for `api_mode`, emptied before each test."""
    shared_emulator.control("reset")
    return shared_emulator


@pytest.fixture(scope="session")
def onnx_bytes() -> bytes:
    return linear_regression_onnx()


@pytest.fixture
def onnx_file(tmp_path: Path, onnx_bytes: bytes) -> Path:
    path = tmp_path / "housepricemodel.onnx"
    path.write_bytes(onnx_bytes)
    return path


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


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., ClientUnderTest]]:
    """Build the bot's real client (aiohttp transport) against an emulator, recording traffic."""
    opened: list[httpx.AsyncClient] = []

    def make(
        emulator: Emulator,
        *,
        username: str | None = None,
        password: str | None = None,
        client_secret: str | None = None,
        timeout_seconds: float = 10.0,
        backoff_seconds: float = 0.01,
    ) -> ClientUnderTest:
        exchanges: list[Exchange] = []
        requested: list[str] = []

        async def note(request: httpx.Request) -> None:
            requested.append(request.url.path)

        async def record(response: httpx.Response) -> None:
            await response.aread()
            try:
                body = response.json()
            except ValueError:
                body = response.text
            exchanges.append(Exchange(response.request.url.path, response.status_code, body))

        http = build_http_client(timeout_seconds=timeout_seconds)
        http.event_hooks = {"request": [note], "response": [record]}
        opened.append(http)
        auth = ServiceAccountAuth(
            http,
            emulator.token_url,
            emulator.config.client_id,
            client_secret if client_secret is not None else emulator.config.client_secret,
            username=username,
            password=password,
        )
        client = WallarooClient(http, emulator.api_url, auth, backoff_seconds=backoff_seconds)
        return ClientUnderTest(client, auth, http, exchanges, requested)

    yield make
    for http in opened:
        await http.aclose()


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "chatops.db"


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """One PostgreSQL server for the session (tests/postgres.py); a database per test."""
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, db_file: Path) -> str:
    """A fresh, empty database: a SQLite file, then (the same test again) PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{db_file}"
    return create_database(request.getfixturevalue("postgres_server_url"))


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a fresh database (SQLite, then PostgreSQL), migrated to the newest schema."""
    engine = make_engine(database_url)
    await upgrade_database(engine)
    yield session_factory(engine)
    await engine.dispose()
