"""What the remediation tests driving the demo's console share: a drift demo whose deployment
runs a newer, model-less version (so the alert offers to roll back to the demo's model), the
console run with a script piped in, and the approval requests and episodes it left."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.demo import serve_console
from emulator.seed import PIPELINE
from storage.alerts import AlertEpisode
from storage.approvals import ApprovalRequest
from storage.database import make_engine, session_factory
from tests.helpers.emulators import Emulator
from tests.helpers.version_flows import deploy_directly, new_version

# Alice asks for the alert's Roll back (its 6th button), Bob approves it (the request's
# first button, numbered after the alert's seven), and the console waits for the rollout.
ROLLED_BACK = [":as alice", ":click 6", ":as bob", ":click 8", ":advance 0", ":advance 10"]


@pytest.fixture
def newer_live(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    emulator = start_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=1.0)
    deploy_directly(emulator, PIPELINE, new_version(emulator, PIPELINE, []))
    return emulator


def run_console(emulator: Emulator, db_dir: Path, lines: list[str], **settings: Any) -> str:
    """The demo's console, `lines` piped in (as UADMIN), polling when the clock moves."""
    settings = emulator.bot_settings(
        db_dir, chatops_poll_seconds=3600, chatops_channel_pacing_seconds=0, **settings
    )
    out = io.StringIO()
    script = io.StringIO("\n".join(lines) + "\n")
    status = asyncio.run(
        serve_console(
            settings, "UADMIN", poll=True, emulator_url=emulator.url, stdin=script, stdout=out
        )
    )
    assert status == 0, out.getvalue()
    return out.getvalue()


def _stored(db_dir: Path) -> tuple[list[ApprovalRequest], list[AlertEpisode]]:
    async def read() -> tuple[list[ApprovalRequest], list[AlertEpisode]]:
        engine = make_engine(f"sqlite:///{db_dir}/chatops.db")
        try:
            async with session_factory(engine)() as session:
                requests = await session.exec(select(ApprovalRequest))
                episodes = await session.exec(select(AlertEpisode))
                return list(requests), list(episodes)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def requests_in(db_dir: Path) -> list[ApprovalRequest]:
    return sorted(_stored(db_dir)[0], key=lambda r: r.id or 0)


def episodes_in(db_dir: Path) -> list[AlertEpisode]:
    return sorted(_stored(db_dir)[1], key=lambda e: e.id or 0)
