"""A subscription made before migration 0009 (no workspace_id) learns its pipeline's workspace
from the results its polls read anyway, with no extra call: v2 assays and today's v1 results
name it; the 2022 tutorial's v1 results do not, so such a subscription keeps going by the
pipeline's name (README's upgrade notes: subscribe again)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.chat.console import ConsoleChat
from bot.services import open_services
from handlers.alerting.assays import check_assay
from storage.watches import AssaySubscription, add_subscription, list_subscriptions
from tests.helpers.alert_flows import ALERTS, next_day
from tests.helpers.alert_flows import drift as drift
from tests.helpers.emulators import Emulator

# The workspace each answer names: v2 assays always, today's v1 items, the tutorial's not.
LEARNS = [("current", "v1", True), ("current", "v2", True), ("seed", "v1", False)]


@pytest.mark.parametrize(("api_mode", "generation", "learns"), LEARNS)
async def test_an_old_subscription_learns_its_workspace_from_its_next_result(
    drift: Emulator, tmp_path: Path, generation: str, learns: bool
) -> None:
    assert drift.demo is not None
    assay_id = drift.demo["assay_id" if generation == "v1" else "assay_v2_id"]
    # As migration 0009 left it: no workspace.
    old = AssaySubscription(assay_id=str(assay_id), channel=ALERTS, created_by="U")
    async with open_services(drift.bot_settings(tmp_path), ConsoleChat(io.StringIO())) as services:
        async with services.sessions() as session:
            await add_subscription(session, old)
        next_day(drift)
        assert await check_assay(services, old, None, None) == 1  # the latest: an Alert
        async with services.sessions() as session:
            (stored,) = await list_subscriptions(session)
    assert stored.workspace_id == (drift.demo["workspace_id"] if learns else None)
    assert old.workspace_id == stored.workspace_id  # what the poll went on with
