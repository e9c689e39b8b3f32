"""What the remediation tests driving the demo's console share: a drift demo whose deployment
runs a newer version (the demo's model, or none), so the alert offers to roll back to the
demo's first, and the approval requests and episodes the console left."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import select

from emulator.seed import PIPELINE
from storage.alerts import AlertEpisode
from storage.approvals import ApprovalRequest
from storage.database import make_engine, session_factory
from tests.helpers.emulators import Emulator
from tests.helpers.version_flows import demo_step, deploy_directly, new_version

# Alice asks for the alert's Roll back (its 6th button), Bob approves it (the request's
# first button, numbered after the alert's seven), and the console waits for the rollout.
ROLLED_BACK = [":as alice", ":click 6", ":as bob", ":click 8", ":advance 0", ":advance 10"]


@pytest.fixture
def newer_model_live(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    """A fresh drift demo whose deployment runs a newer version (so the version live before
    it is what the alert offers to roll back to). It runs the demo's model too: the demo's
    traffic is answered live, and a model-less version would answer none of it."""
    emulator = start_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=1.0)
    deploy_directly(emulator, PIPELINE, new_version(emulator, PIPELINE, [demo_step(emulator)]))
    return emulator


@pytest.fixture
def newer_live(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    emulator = start_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=1.0)
    deploy_directly(emulator, PIPELINE, new_version(emulator, PIPELINE, []))
    return emulator


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
