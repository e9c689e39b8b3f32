"""An assay id made only of digits, against today's emulator (both assay generations): a v1 id,
a v2 UUID's first characters, or either. The emulator's UUIDs are random, so the test gives
its assays fixed ids: `083085` once came up as a v2 prefix and was read as v1 assay 83085."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.services import open_services
from handlers.context import Services
from tests.helpers.commands import say
from tests.helpers.emulators import Emulator

V1_ID = 83085  # what `083085` would be as a number
STARTS_WITH_ZERO = "08308500-0000-4000-8000-000000000001"
ALL_DIGITS = "12345600-0000-4000-8000-000000000002"


def copy_assay(emulator: Emulator, table: str, old: object, new: object) -> None:
    """A copy of assay `old` in the emulator's database, under the id `new`."""
    db = emulator.state.db
    columns = ", ".join(row["name"] for row in db.all(f"PRAGMA table_info({table})"))
    others = columns.removeprefix("id, ")
    with db.transaction():
        db.execute(
            f"INSERT INTO {table} ({columns}) SELECT ?, {others} FROM {table} WHERE id = ?",
            (new, old),
        )


def give_id(emulator: Emulator, table: str, results: str, old: object, new: object) -> None:
    """Assay `old`, and its results, under the id `new` instead."""
    copy_assay(emulator, table, old, new)
    with emulator.state.db.transaction():
        emulator.state.db.execute(
            f"UPDATE {results} SET assay_id = ? WHERE assay_id = ?", (new, old)
        )
        emulator.state.db.execute(f"DELETE FROM {table} WHERE id = ?", (old,))


@pytest.fixture
def today(start_emulator: Callable[..., Emulator]) -> Emulator:
    """The drift demo as today's Wallaroo, its v1 assay numbered 83085, its v2 twin's UUID
    starting with 0, and a copy of the twin (`digits only`) whose UUID starts with 123456."""
    emulator = start_emulator(api="current", seed_demo=True, deployment_startup_seconds=0)
    assert emulator.demo is not None
    give_id(emulator, "assays", "assay_results", emulator.demo["assay_id"], V1_ID)
    twin = emulator.demo["assay_v2_id"]
    give_id(emulator, "assays_v2", "assay_v2_results", twin, STARTS_WITH_ZERO)
    copy_assay(emulator, "assays_v2", STARTS_WITH_ZERO, ALL_DIGITS)
    with emulator.state.db.transaction():
        emulator.state.db.execute(
            "UPDATE assays_v2 SET name = ?, config = json_set(config, '$.name', ?) WHERE id = ?",
            ("digits only", "digits only", ALL_DIGITS),
        )
    return emulator


@pytest.fixture
async def services(today: Emulator, tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(today.bot_settings(tmp_path)) as opened:
        yield opened


async def test_digits_with_a_leading_zero_are_a_v2_prefix_first(services: Services) -> None:
    # v1 assay 83085 exists, and is not the one meant: no v1 id starts with 0.
    reply = await say(services, "assay results 083085")
    assert f"Latest results of assay {STARTS_WITH_ZERO[:8]}" in reply
    missing = await say(services, "assay results 083086")
    assert "No assay has id 083086." in missing
    # No v2 id starts with 0083085: it is v1 assay 83085 written with zeros, as it always was.
    padded = await say(services, "assay results 0083085")
    assert f"Latest results of assay {V1_ID}" in padded


async def test_six_digits_are_a_v2_prefix_when_no_v1_assay_has_that_id(
    services: Services,
) -> None:
    reply = await say(services, "assay baseline 123456")
    assert "Baseline of digits only" in reply and "records from" in reply
    assert f"Assay {ALL_DIGITS[:8]} is now inactive" in await say(services, "assay disable 123456")
    assert "No assay has id 123457." in await say(services, "assay results 123457")


async def test_a_plain_number_is_the_v1_assay(services: Services) -> None:
    assert f"Latest results of assay {V1_ID}" in await say(services, f"assay results {V1_ID}")
    assert f"Assay {V1_ID} is now inactive" in await say(services, f"assay disable {V1_ID}")
