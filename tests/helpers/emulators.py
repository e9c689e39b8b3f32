"""The emulator as the tests run it: served over real HTTP on 127.0.0.1 (port 0) in a thread,
with raw calls for setting scenes (`control`, `admin().ok`) and settings for a bot using it.
`Emulators` starts them and stops them again: the fixtures in tests/conftest.py close one per
test or per module, so no emulator outlives the tests that use it."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from bot.settings import Settings
from emulator.app import create_app_for_state
from emulator.config import EmulatorConfig
from emulator.seed import seed_demo
from emulator.server import serve_in_thread
from emulator.state import EmulatorState, build_state
from tests.helpers.databases import migrated_sqlite
from tests.helpers.signing_keys import give_back, lend_key

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
        """Settings for a bot using this emulator's service account, UADMIN its admin; its
        database in `db_dir`, migrated already (tests/helpers/databases.py) unless given."""
        if "database_url" not in overrides:
            overrides["database_url"] = migrated_sqlite(db_dir / "chatops.db")
        values: dict[str, Any] = {
            "wallaroo_api_url": self.api_url,
            "wallaroo_token_url": self.token_url,
            "wallaroo_client_secret": self.config.client_secret,
            "wallaroo_username": None,
            "wallaroo_password": None,
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


class Emulators:
    """Starts emulators (`start(**config overrides)`); `close()` stops the ones it started.

    A stop takes uvicorn a tick or two (~0.1-0.2 s), so stops run on `stopper`, a pool the
    session drains at its end: a test does not wait for its emulators to wind down.
    """

    def __init__(
        self,
        tmp_path_factory: pytest.TempPathFactory,
        http: httpx.Client,
        stopper: ThreadPoolExecutor,
    ) -> None:
        self._tmp = tmp_path_factory
        self._http = http
        self._stopper = stopper
        # Each with the signing key it was lent (tests/helpers/signing_keys.py).
        self._servers: list[tuple[AbstractContextManager[str], RSAPrivateKey]] = []

    def start(self, **overrides: Any) -> Emulator:
        config = replace(
            EmulatorConfig(
                model_dir=self._tmp.mktemp("models"), deployment_startup_seconds=5.0, api="seed"
            ),
            **overrides,
        )
        key = lend_key()
        try:
            state = build_state(config, signing_key=key)
            app = create_app_for_state(state)
            demo = seed_demo(app, state) if config.seed_demo else None
            server = serve_in_thread(app)
            url = server.__enter__()
        except BaseException:
            give_back(key)
            raise
        self._servers.append((server, key))
        return Emulator(url, config, state, self._http, demo)

    __call__ = start

    def close(self) -> list[Future[None]]:
        """Tell every emulator started here to stop; returns the stops under way."""
        servers, self._servers = self._servers, []
        return [self._stopper.submit(_stop, server, key) for server, key in servers]


def _stop(server: AbstractContextManager[str], key: RSAPrivateKey) -> None:
    try:
        server.__exit__(None, None, None)
    finally:
        give_back(key)  # it signs nothing more: another emulator may have it


# A module that runs against both generations of the API says `api_mode = both_api_modes`.
both_api_modes = pytest.fixture(scope="module", params=["current", "seed"])(
    lambda request: request.param
)
