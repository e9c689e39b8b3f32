"""The client's assays v2 calls and its two v1 result paths, over real HTTP: today's emulator
(api="current", drift demo seeded with its v2 twin) and the tutorial's (api="seed")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.wallaroo import build_http_client, build_wallaroo_client
from emulator.seed import DAY_MS
from tests.helpers.clients import ClientUnderTest
from tests.helpers.emulators import Emulator


@pytest.fixture(scope="module")
def today_demo(start_module_emulator: Callable[..., Emulator]) -> Emulator:
    """Shared by the read-only tests; a test that moves the clock starts its own."""
    return start_module_emulator(api="current", seed_demo=True, deployment_startup_seconds=0)


@pytest.fixture
def fresh_today_demo(start_emulator: Callable[..., Emulator]) -> Emulator:
    return start_emulator(api="current", seed_demo=True, deployment_startup_seconds=0)


@pytest.fixture(scope="module")
def tutorial_demo(start_module_emulator: Callable[..., Emulator]) -> Emulator:
    return start_module_emulator(api="seed", seed_demo=True, deployment_startup_seconds=0)


def v2_id(emulator: Emulator) -> str:
    assert emulator.demo is not None
    return emulator.demo["assay_v2_id"]


async def test_v2_is_probed_once_and_lists_the_demo_assay(
    today_demo: Emulator, make_client: Callable[..., ClientUnderTest]
) -> None:
    client = make_client(today_demo).client
    before = today_demo.calls_to("/v2/api/assays/get")
    assert await client.uses_assays_v2() and await client.uses_assays_v2()
    assert today_demo.calls_to("/v2/api/assays/get") == before + 1

    (listed,) = await client.list_assays_v2(pipeline_name="housepricepipe")
    assert listed.id == v2_id(today_demo) and listed.name == "example assay" and listed.active
    assert listed.path.key == "in.tensor.0" and listed.path.thresholds.alert == 0.1
    assert listed.baseline_summary() is not None  # the server stores the Static one summarised
    assert await client.list_assays_v2(pipeline_name="nosuchpipe") == []
    assert (await client.get_assay_v2(listed.id)).name == "example assay"


async def test_v2_results_read_as_the_same_view_as_v1s(
    today_demo: Emulator, make_client: Callable[..., ClientUnderTest]
) -> None:
    assert today_demo.demo is not None
    client = make_client(today_demo).client
    v2 = await client.drift_results(v2_id(today_demo))
    v1 = await client.drift_results(today_demo.demo["assay_id"])
    assert len(v2) == len(v1) == 29 and {r.status for r in v2} == {"Ok"}
    # The twins score the same windows, with the same verdicts (v2 bins as real v2 assays do:
    # five quantile bins, no outlier bins, so its scores differ from v1's).
    assert [r.started for r in v2] == [r.started for r in v1]
    assert [r.status for r in v2] == [r.status for r in v1]
    latest = v2[-1]
    assert latest.generation == "v2" and latest.alert_threshold == 0.1
    assert len(latest.bin_names) == len(latest.baseline_values) == len(latest.window_values) > 0
    assert len(latest.moved_bins()) == 3
    # Only results newer than a window start; the assay itself is then not read at all.
    gets = today_demo.calls_to("/v2/api/assays/get/:id")
    newest = await client.drift_results(
        v2_id(today_demo), start=latest.window_start, newer_than=latest.window_start
    )
    assert newest == [] and today_demo.calls_to("/v2/api/assays/get/:id") == gets


async def test_v2_lifecycle_next_run_preview_and_schedule(
    fresh_today_demo: Emulator, make_client: Callable[..., ClientUnderTest]
) -> None:
    demo = fresh_today_demo
    client = make_client(demo).client
    assay = await client.get_assay_v2(v2_id(demo))
    runs = await client.get_assay_v2_next_run(assay.id)
    assert runs.last_run is not None and runs.next_run is not None

    demo.control("clock", {"advance_seconds": DAY_MS / 1000})  # the first drifted day
    assert (await client.drift_results(assay.id))[-1].status == "Alert"

    end = datetime.now(UTC) + timedelta(days=1)
    previews = await client.preview_assay_v2(assay, end - timedelta(days=5), end)
    assert previews and all(p.window_end for p in previews)

    await client.set_assay_v2_active(assay.id, False)
    assert not (await client.get_assay_v2(assay.id)).active
    await client.set_assay_v2_active(assay.id, True)

    body = assay.schedule_body() | {"name": "second"}
    created = await client.schedule_assay_v2(body)
    assert len(created) == 36 and created != assay.id
    assert {a.name for a in await client.list_assays_v2()} == {"example assay", "second"}


async def test_today_v1_results_use_the_new_path(
    today_demo: Emulator, make_client: Callable[..., ClientUnderTest]
) -> None:
    assert today_demo.demo is not None
    under_test = make_client(today_demo)
    results = await under_test.client.get_assay_results(today_demo.demo["assay_id"])
    assert len(results) == 29 and results[0].name is None and results[0].window_start
    (sent,) = under_test.sent("/v1/api/assays/get_assay_results")
    assert sent.status == 200 and under_test.sent("/v1/api/assays/get_results") == []


async def test_the_tutorials_instance_falls_back_once_and_has_no_v2(
    tutorial_demo: Emulator, make_client: Callable[..., ClientUnderTest]
) -> None:
    assert tutorial_demo.demo is not None
    under_test = make_client(tutorial_demo)
    client, assay_id = under_test.client, tutorial_demo.demo["assay_id"]
    assert len(await client.drift_results(assay_id)) == 29
    assert len(await client.drift_results(assay_id)) == 29
    assert under_test.attempts("/v1/api/assays/get_assay_results") == 1  # then remembered
    assert under_test.attempts("/v1/api/assays/get_results") == 2
    assert not await client.uses_assays_v2() and not await client.uses_assays_v2()
    assert under_test.attempts("/v2/api/assays/get") == 1


async def test_the_assays_setting_decides_without_probing(
    today_demo: Emulator, tmp_path: Path
) -> None:
    before = today_demo.calls_to("/v2/api/assays/get")
    async with build_http_client() as http:
        for mode, expected in (("v1", False), ("v2", True)):
            settings = today_demo.bot_settings(tmp_path, wallaroo_assays=mode)
            client = build_wallaroo_client(settings, http)
            assert await client.uses_assays_v2() is expected
    assert today_demo.calls_to("/v2/api/assays/get") == before
