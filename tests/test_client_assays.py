"""The client's assay methods against the emulator's drift demo, over real HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.wallaroo import AssayConfig, WallarooBadRequest, WallarooNotFound
from emulator.assays.config import format_time_z
from emulator.seed import DAY_MS
from tests.helpers.clients import ClientUnderTest
from tests.helpers.emulators import Emulator


@pytest.fixture
def demo(start_emulator: Callable[..., Emulator]) -> Emulator:
    return start_emulator(seed_demo=True, deployment_startup_seconds=0)


def demo_config(demo: Emulator, **overrides) -> AssayConfig:
    ids = demo.demo
    first_day = ids["drift_starts_ms"] - 30 * DAY_MS
    return AssayConfig.for_pipeline(
        name="client assay",
        workspace_id=ids["workspace_id"],
        pipeline_id=ids["pipeline_id"],
        pipeline_name="housepricepipe",
        model_name="housepricemodel",
        iopath="input 0 0",
        baseline_start=format_time_z(first_day),
        baseline_end=format_time_z(first_day + DAY_MS),
        warning_threshold=0.05,
        alert_threshold=0.1,
        **overrides,
    )


async def test_assay_lifecycle_through_the_client(
    demo: Emulator, make_client: Callable[..., ClientUnderTest]
) -> None:
    client = make_client(demo).client
    ids = demo.demo

    (example,) = await client.list_assays(ids["pipeline_id"])
    assert example.name == "example assay" and example.active

    baseline = await client.run_interactive_baseline(demo_config(demo))
    assert baseline.status == "BaselineRun" and baseline.baseline_summary.count > 0

    interactive = await client.run_interactive(demo_config(demo))
    assert len(interactive) == 29 and {r.status for r in interactive} == {"Ok"}

    records = await client.get_baseline(ids["workspace_id"], "housepricepipe", limit=3)
    assert len(records) == 3 and len(records[0].original_data["tensor"][0]) == 17

    assay_id = await client.create_assay(demo_config(demo))
    assert len(await client.get_assay_results(assay_id)) == 29

    demo.control("clock", {"advance_seconds": 86400})
    results = await client.get_assay_results(assay_id)
    assert results[-1].status == "Alert" and results[-1].score >= 0.1
    assert results[-1].window_summary.edge_names[0] == "left_outlier"

    assert (await client.set_assay_active(assay_id, False)).active is False
    demo.control("clock", {"advance_seconds": 86400})
    assert len(await client.get_assay_results(assay_id)) == 30  # inactive: nothing new


async def test_assay_refusals_are_typed_errors(
    demo: Emulator, make_client: Callable[..., ClientUnderTest]
) -> None:
    client = make_client(demo).client
    with pytest.raises(WallarooBadRequest, match=r"window\.width"):
        await client.run_interactive(demo_config(demo, width="a fortnight"))
    with pytest.raises(WallarooNotFound, match="assay 4242 not found"):
        await client.get_assay_results(4242)


async def test_create_sends_todays_body_and_a_tutorial_instance_the_old_one_once_refused(
    demo: Emulator, make_client: Callable[..., ClientUnderTest]
) -> None:
    # Today's spec requires created_at and a calculated or static baseline; the tutorial's
    # emulator takes only its `Fixed` one and refuses the other with a 400 (nothing created).
    under_test = make_client(demo)
    first = await under_test.client.create_assay(demo_config(demo))
    second = await under_test.client.create_assay(demo_config(demo))
    assert second == first + 1
    sent = under_test.sent("/v1/api/assays/create")
    assert [e.status for e in sent] == [400, 200, 200]  # the refusal is remembered
    listed = await under_test.client.list_assays(demo.demo["pipeline_id"])
    assert {first, second} <= {a.id for a in listed}
