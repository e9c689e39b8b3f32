"""Assays v2 commands against today's emulator (api="current", the drift demo with its v2
twin), by UUID prefix. A v2 assay's drift episode through `serve` and its poller is one of the
parametrizations of tests/test_alerts.py's episode test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.services import open_services
from bot.wallaroo import AssayV2
from emulator.assays.config import format_time_z
from emulator.seed import DAY_MS
from handlers.commands.assay_lookup import find_assay
from handlers.context import CommandProblem, Services
from storage.watches import list_subscriptions
from tests.helpers.commands import say as say_to
from tests.helpers.emulators import Emulator


@pytest.fixture
def today(start_emulator: Callable[..., Emulator]) -> Emulator:
    """A drift demo of its own (the tests move its clock), answering as today's Wallaroo."""
    return start_emulator(api="current", seed_demo=True, deployment_startup_seconds=0)


@pytest.fixture
async def services(today: Emulator, tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(today.bot_settings(tmp_path)) as opened:
        yield opened


def v2_id(emulator: Emulator) -> str:
    assert emulator.demo is not None
    return emulator.demo["assay_v2_id"]


async def test_assay_commands_take_a_v2_prefix_and_show_the_short_id(
    today: Emulator, services: Services
) -> None:
    uuid, prefix = v2_id(today), v2_id(today)[:6]
    listing = await say_to(services, "assays housepricedrift housepricepipe")
    assert "id 1 " in listing  # the v1 assay, and its v2 twin beside it
    assert f"`{uuid[:8]}` (v2)" in listing and "next run" in listing and uuid not in listing
    results = await say_to(services, f"assay results {prefix}")
    assert f"Latest results of assay {uuid[:8]}" in results and "Ok" in results
    assert "records from" in await say_to(services, f"assay baseline {prefix}")
    assert "window(s)" in await say_to(services, f"assay run {uuid.upper()}")
    assert f"Assay {uuid[:8]} is now inactive" in await say_to(services, f"assay disable {prefix}")
    assert "is now active" in await say_to(services, f"assay enable {uuid}")

    other = "0" if uuid[0] != "0" else "1"
    missing = await say_to(services, f"assay results {other}{uuid[1:6]}")
    assert f"No assay has id {other}{uuid[1:6]}." in missing  # as for a v1 id (issue 16)

    assert today.demo is not None
    first_day = today.demo["drift_starts_ms"] - 30 * DAY_MS
    created = await say_to(
        services,
        f"assay create housepricedrift housepricepipe baseline_start={format_time_z(first_day)} "
        f'baseline_end={format_time_z(first_day + DAY_MS)} iopath="input tensor 0" alert=0.2 '
        "name=second",
    )
    assert "Created assay second" in created and "v2" in created
    (second,) = [a for a in await services.wallaroo.list_assays_v2() if a.name == "second"]
    assert second.path.key == "in.tensor.0" and second.path.thresholds.alert == 0.2
    assert f"`{second.id[:8]}`" in created

    assert "will go to" in await say_to(services, f"subscribe assay {prefix} #alerts")
    async with services.sessions() as session:
        (subscription,) = await list_subscriptions(session)
    assert subscription.assay_id == uuid and subscription.assay_name == "example assay"
    assert "No more alerts" in await say_to(services, f"unsubscribe assay {uuid[:8]}")


class TwoAssays:
    """A client whose two v2 assays share their first 8 characters: a collision no emulator
    run can be made to produce on demand (its ids are random)."""

    def __init__(self, template: AssayV2) -> None:
        ids = ("3fa85f64-0000-4562-b3fc-2c963f66afa6", "3fa85f64-1111-4562-b3fc-2c963f66afa6")
        self.assays = [template.model_copy(update={"id": i, "name": i[9:13]}) for i in ids]

    async def uses_assays_v2(self) -> bool:
        return True

    async def list_assays_v2(self) -> list[AssayV2]:
        return self.assays


async def test_an_ambiguous_prefix_lists_the_matches(today: Emulator, services: Services) -> None:
    client = TwoAssays(await services.wallaroo.get_assay_v2(v2_id(today)))
    with pytest.raises(CommandProblem) as caught:
        await find_assay(client, "3fa85f64")  # type: ignore[arg-type]
    assert "matches 2 assays" in caught.value.message
    assert "`3fa85f64-0` (0000)" in caught.value.message and "(1111)" in caught.value.message
    assert (await find_assay(client, "3fa85f64-1")).name == "1111"  # type: ignore[arg-type]
