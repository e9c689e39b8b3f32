"""Fixtures: emulators served over real HTTP on 127.0.0.1 (port 0), stopped when the test (or
module) that started them ends; the bot's client against one; databases to migrate."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.wallaroo import ServiceAccountAuth, WallarooClient, build_http_client
from emulator.onnx_models import linear_regression_onnx
from storage.database import make_engine, session_factory
from storage.migrate import upgrade_database
from tests.helpers.clients import ClientUnderTest, Exchange
from tests.helpers.databases import migrated_sqlite
from tests.helpers.emulators import Emulator, Emulators
from tests.helpers.postgres import create_database, postgres_server


@pytest.fixture(scope="session")
def emulator_http() -> Iterator[httpx.Client]:
    """One client for the tests' raw calls: a new httpx client per call costs an SSL context."""
    with httpx.Client(timeout=10) as http:
        yield http


@pytest.fixture(scope="session")
def emulator_stopper() -> Iterator[ThreadPoolExecutor]:
    """Where emulators wind down, beside the next tests; drained at the end of the session."""
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="emulator-stop") as pool:
        yield pool


def _emulators(
    tmp_path_factory: pytest.TempPathFactory,
    emulator_http: httpx.Client,
    emulator_stopper: ThreadPoolExecutor,
) -> Iterator[Emulators]:
    emulators = Emulators(tmp_path_factory, emulator_http, emulator_stopper)
    try:
        yield emulators
    finally:
        emulators.close()


@pytest.fixture
def start_emulator(
    tmp_path_factory: pytest.TempPathFactory,
    emulator_http: httpx.Client,
    emulator_stopper: ThreadPoolExecutor,
) -> Iterator[Emulators]:
    """Start an emulator with the given config overrides; it stops when the test ends."""
    yield from _emulators(tmp_path_factory, emulator_http, emulator_stopper)


@pytest.fixture(scope="module")
def start_module_emulator(
    tmp_path_factory: pytest.TempPathFactory,
    emulator_http: httpx.Client,
    emulator_stopper: ThreadPoolExecutor,
) -> Iterator[Emulators]:
    """As `start_emulator`, for a module's shared emulators: they stop when the module ends."""
    yield from _emulators(tmp_path_factory, emulator_http, emulator_stopper)


@pytest.fixture
def api_mode() -> str:
    """Which Wallaroo the `emulator` fixture answers as. The tutorial's ("seed") unless a module
    overrides this fixture: end-to-end modules parametrize it over both modes (`both_api_modes`
    in tests/helpers/emulators.py), tests of today's shapes pin "current"."""
    return "seed"


@pytest.fixture(scope="module")
def shared_emulators(start_module_emulator: Emulators) -> dict[str, Emulator]:
    """The module's emulator per API mode, started on first use."""
    return {}


@pytest.fixture
def shared_emulator(
    shared_emulators: dict[str, Emulator], start_module_emulator: Emulators, api_mode: str
) -> Emulator:
    if api_mode not in shared_emulators:
        shared_emulators[api_mode] = start_module_emulator(api=api_mode)
    return shared_emulators[api_mode]


@pytest.fixture
def emulator(shared_emulator: Emulator) -> Emulator:
    """The module's emulator for `api_mode`, emptied before each test."""
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
    """One PostgreSQL server for the session (tests/helpers/postgres.py); a database per test."""
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, db_file: Path) -> str:
    """A fresh, empty database: a SQLite file, then (the same test again) PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{db_file}"
    return create_database(request.getfixturevalue("postgres_server_url"))


@pytest.fixture
async def sessions(
    database_url: str, db_file: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a fresh database (SQLite, then PostgreSQL) with the newest schema: a copy
    of a SQLite file migrated once (tests/helpers/databases.py); PostgreSQL migrated here."""
    engine = make_engine(database_url)
    if database_url.startswith("sqlite"):
        migrated_sqlite(db_file)  # (the engine has not opened the file yet)
    else:
        await upgrade_database(engine)
    yield session_factory(engine)
    await engine.dispose()
