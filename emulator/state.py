"""Everything one emulator instance holds, built once and hung on `app.state.emulator`."""

from __future__ import annotations

import hashlib
import secrets
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from fastapi import Request

from emulator.clock import Clock, iso
from emulator.config import EmulatorConfig
from emulator.db import Database
from emulator.errors import ApiError
from emulator.faults import FaultInjector
from emulator.inference_logs import InferenceLogStore
from emulator.model_runner import ModelRunner
from emulator.tokens import TokenService
from emulator.traffic import Traffic

SERVICE_ACCOUNT_PREFIX = "service-account-"


def hash_password(password: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 10_000).hex()
    return f"{salt}${digest}"


def password_matches(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    salt, _ = stored.split("$", 1)
    return secrets.compare_digest(hash_password(password, salt), stored)


@dataclass
class EmulatorState:
    config: EmulatorConfig
    db: Database
    clock: Clock
    tokens: TokenService
    faults: FaultInjector
    model_dir: Path
    admin_user_id: str
    service_account_id: str
    logs: InferenceLogStore
    models: ModelRunner
    traffic: Traffic

    @property
    def current_api(self) -> bool:
        """Whether this instance answers in today's shapes (else the 2022 tutorial's)."""
        return self.config.api == "current"

    def reset(self) -> None:
        self.db.clear(keep_user_ids=[self.admin_user_id, self.service_account_id])
        for stored in self.model_dir.glob("*.model"):
            stored.unlink(missing_ok=True)
        self.tokens.forget_all()
        self.traffic.clear()
        self.logs.clear()
        self.faults.clear()
        self.faults.forget_calls()
        self.clock.reset()
        with self.db.transaction():
            create_user_workspace(self, self.admin_user_id, self.config.admin_email)


async def get_state(request: Request) -> EmulatorState:
    return request.app.state.emulator


def unknown_path() -> ApiError:
    """What any server answers for a path it does not serve (Starlette's 404, as `{msg, code}`)."""
    return ApiError(404, "Not Found")


async def current_api_only(request: Request) -> None:
    """A dependency for calls today's Wallaroo has and the 2022 tutorial's does not."""
    if not request.app.state.emulator.current_api:
        raise unknown_path()


async def seed_api_only(request: Request) -> None:
    """A dependency for calls that are gone from today's Wallaroo (e.g. pipelines/copy)."""
    if request.app.state.emulator.current_api:
        raise unknown_path()


def build_state(config: EmulatorConfig, signing_key: RSAPrivateKey | None = None) -> EmulatorState:
    clock = Clock()
    db = Database(config.database)
    model_dir = config.model_dir or Path(tempfile.mkdtemp(prefix="wallaroo-emulator-models-"))
    model_dir.mkdir(parents=True, exist_ok=True)
    tokens = TokenService(
        clock,
        config.client_id,
        config.access_token_seconds,
        config.refresh_token_seconds,
        signing_key,
    )
    admin_id = _ensure_user(db, clock, config.admin_email, config.admin_email, is_admin=True)
    _set_password(db, admin_id, config.admin_password)
    # client_credentials tokens act as this user, as Keycloak's service accounts do.
    service_id = _ensure_user(db, clock, SERVICE_ACCOUNT_PREFIX + config.client_id, None, True)
    logs, models = InferenceLogStore(), ModelRunner()
    state = EmulatorState(
        config,
        db,
        clock,
        tokens,
        FaultInjector(),
        model_dir,
        admin_id,
        service_id,
        logs,
        models,
        Traffic(db, clock, logs, models, config.deployment_startup_seconds),
    )
    if not db.one("SELECT 1 FROM workspace_users WHERE user_id = ?", (admin_id,)):
        with db.transaction():
            create_user_workspace(state, admin_id, config.admin_email)
    return state


def create_user_workspace(state: EmulatorState, user_id: str, email: str) -> int:
    """Every Wallaroo user starts with a default workspace of their own (call in a transaction)."""
    workspace_id = state.db.insert(
        "INSERT INTO workspaces (name, created_at, created_by) VALUES (?, ?, ?)",
        (f"{email} - Default Workspace", iso(state.clock.now()), user_id),
    )
    state.db.execute("INSERT INTO workspace_users VALUES (?, ?, 'OWNER')", (workspace_id, user_id))
    return workspace_id


def _ensure_user(
    db: Database, clock: Clock, username: str, email: str | None, is_admin: bool
) -> str:
    row = db.one("SELECT id FROM users WHERE username = ?", (username,))
    if row:
        return row["id"]
    user_id = str(uuid.uuid4())
    db.execute(
        "INSERT INTO users (id, username, email, enabled, is_admin, created_ms)"
        " VALUES (?, ?, ?, 1, ?, ?)",
        (user_id, username, email, int(is_admin), clock.now_ms()),
    )
    return user_id


def _set_password(db: Database, user_id: str, password: str) -> None:
    db.execute(
        "UPDATE users SET password_hash = ? WHERE id = ?", (hash_password(password), user_id)
    )
