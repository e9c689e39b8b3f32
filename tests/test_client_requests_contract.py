"""Every request body the bot's client sends to today's Wallaroo, checked against the body models
of Wallaroo's generated client (from the public wheel, fetched at test time: tests/wallaroo_spec).

The emulator is lenient (it takes the tutorial's bodies too), so a body missing a field a real
2024.4-2026 server requires, or naming one it does not know, would pass every other test. Here
the bot's real client drives today's emulator over real HTTP; each JSON body it sent is parsed
with the `*Body.from_dict` of the call's generated module (required fields, UUIDs, datetimes,
enums) and any top-level field the spec lacks is reported.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.wallaroo import AssayConfig, WallarooClient
from bot.wallaroo.assay_v2_models import DataOrigin, Thresholds, schedule_body
from bot.wallaroo.drift import parse_time
from emulator.assays.config import format_time_z
from emulator.seed import DAY_MS
from handlers.commands.assay_lookup import found_v1
from handlers.commands.assay_runs import config_of
from tests.helpers.clients import ClientUnderTest
from tests.helpers.emulators import Emulator
from tests.helpers.wallaroo_spec import PACKAGE, generated_client

# Fields the bot sends that the spec does not list, each for a reason.
KNOWN_EXTRAS = {
    # The assay config as the tutorial names it; today's servers ignore both (the SDK sends
    # the path in `window.path` and drops model_insights_url).
    "/v1/api/assays/create": {"iopath", "model_insights_url"},
    "/v1/api/assays/run_interactive": {"iopath", "model_insights_url"},
}
# Required by the generated model, left out as Wallaroo's own SDK leaves it out.
KNOWN_MISSING = {"/v1/api/users/invite": "roles"}


def body_models() -> dict[str, type]:
    """URL path -> the generated body class its call takes."""
    api = importlib.import_module(f"{PACKAGE}.api")
    found: dict[str, type] = {}
    for area in pkgutil.iter_modules(api.__path__):
        package = importlib.import_module(f"{PACKAGE}.api.{area.name}")
        for call in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{PACKAGE}.api.{area.name}.{call.name}")
            source = Path(str(module.__file__)).read_text()
            url = re.search(r'"url": "([^"]+)"', source)
            body = re.search(r"\bbody: (\w+),", source)
            if url and body:
                found[url.group(1)] = getattr(module, body.group(1))
    return found


def problems_of(path: str, body: Any, model: type) -> list[str]:
    missing = KNOWN_MISSING.get(path)
    if missing and isinstance(body, dict) and missing not in body:
        body = body | {missing: []}
    try:
        parsed = model.from_dict(body)
    except (KeyError, ValueError, TypeError) as exc:
        return [f"{path}: {type(exc).__name__} {exc}"]
    extras = set(getattr(parsed, "additional_properties", {})) - KNOWN_EXTRAS.get(path, set())
    return [f"{path}: fields the spec lacks: {sorted(extras)}"] if extras else []


@pytest.fixture(scope="module")
def spec_bodies() -> dict[str, type]:
    generated_client()
    return body_models()


@pytest.fixture
def today(start_emulator: Callable[..., Emulator]) -> Emulator:
    return start_emulator(api="current", seed_demo=True, deployment_startup_seconds=0)


def recording(under_test: ClientUnderTest) -> list[tuple[str, Any]]:
    sent: list[tuple[str, Any]] = []

    async def note(request: httpx.Request) -> None:
        if request.headers.get("content-type", "").startswith("application/json"):
            sent.append((request.url.path, json.loads(request.content or b"null")))

    under_test.http.event_hooks["request"].append(note)
    return sent


async def drive_pipelines(client: WallarooClient, workspace_id: int) -> None:
    listing = await client.find_listed_pipeline(workspace_id, 1)
    assert listing is not None
    latest = await client.latest_pipeline_version(workspace_id, listing)
    assert latest is not None and latest.id is None
    live = await client.live_deployment(workspace_id, listing)
    assert live is not None
    await client.get_deployment_status(live.deploy_id, live.id)
    await client.get_pipeline_external_url(workspace_id, listing.pipeline.name)
    await client.undeploy_pipeline(listing.pipeline.id, live.id)
    await client.deploy_pipeline(
        listing.pipeline.id, None, live.deploy_id, pipeline_version=latest.version
    )


async def drive_assays_v1(client: WallarooClient, today: Emulator) -> None:
    ids = today.demo
    assert ids is not None
    (listed,) = await client.list_assays(ids["pipeline_id"])
    await client.get_assay_results(listed.id)
    await client.run_interactive(config_of(found_v1(listed, ids["workspace_id"])))
    await client.get_baseline(ids["workspace_id"], "housepricepipe", limit=3)
    first_day = ids["drift_starts_ms"] - 30 * DAY_MS
    config = AssayConfig.for_pipeline(
        name="contract assay",
        workspace_id=ids["workspace_id"],
        pipeline_id=ids["pipeline_id"],
        pipeline_name="housepricepipe",
        model_name="housepricemodel",
        iopath="input 0 0",
        baseline_start=format_time_z(first_day),
        baseline_end=format_time_z(first_day + DAY_MS),
    )
    summarizer = config.summarizer.model_dump(mode="json")
    await client.summarize(summarizer, {"fixed_window": config.baseline_window()})
    created = await client.create_assay(config)
    assert len(await client.get_assay_results(created)) == 29  # today's body ran as asked
    await client.set_assay_active(created, False)


async def drive_assays_v2(client: WallarooClient, today: Emulator) -> None:
    assert today.demo is not None
    assert await client.uses_assays_v2()
    (assay,) = await client.list_assays_v2(pipeline_name="housepricepipe", workspace_id=2)
    await client.get_assay_v2(assay.id)
    results = await client.get_assay_v2_results(assay.id)
    await client.get_assay_v2_next_run(assay.id)
    end = parse_time(results[-1].window_end)
    await client.preview_assay_v2(assay, end - timedelta(days=3), end)
    origin = assay.targeting.data_origin
    body = schedule_body(
        name="contract v2",
        origin=DataOrigin.model_validate(origin.model_dump()),
        iopath="in.tensor.0",
        thresholds=Thresholds(alert=0.2, warning=0.1),
        baseline_start=(end - timedelta(days=2)).isoformat(),
        baseline_end=(end - timedelta(days=1)).isoformat(),
        width_seconds=86_400,
        first_run=end.isoformat(),
    )
    created = await client.schedule_assay_v2(body)
    await client.set_assay_v2_active(created, False)


async def drive_the_rest(client: WallarooClient, workspace_id: int) -> None:
    users = await client.query_users()
    await client.query_users(list(users)[:1])
    await client.invite_user("contract@example.com")
    await client.list_workspaces()
    await client.list_workspace_users(workspace_id)
    (model,) = await client.list_models(workspace_id)
    await client.get_model(model.id)
    await client.get_model_by_id(model.id)


async def test_every_body_sent_to_todays_wallaroo_fits_the_spec(
    spec_bodies: dict[str, type], today: Emulator, make_client: Callable[..., ClientUnderTest]
) -> None:
    assert today.demo is not None
    under_test = make_client(
        today, username=today.config.admin_email, password=today.config.admin_password
    )
    sent = recording(under_test)
    client, workspace_id = under_test.client, today.demo["workspace_id"]
    await drive_pipelines(client, workspace_id)
    await drive_assays_v1(client, today)
    await drive_assays_v2(client, today)
    await drive_the_rest(client, workspace_id)

    api_calls = [(path, body) for path, body in sent if "/api/" in path]
    unknown = {path for path, _ in api_calls if path not in spec_bodies}
    assert unknown == set()  # every call the bot made here is one the spec has
    problems = [p for path, body in api_calls for p in problems_of(path, body, spec_bodies[path])]
    assert problems == []
    checked = {path for path, _ in api_calls}
    for must in (
        "/v1/api/pipelines/list_pipeline_versions",
        "/v1/api/pipelines/deploy",
        "/v1/api/assays/get_assay_results",
        "/v1/api/assays/create",
        "/v1/api/assays/get_baseline",
        "/v2/api/assays/get_results",
        "/v2/api/assays/schedule",
        "/v2/api/assays/preview",
        "/v2/api/assays/set_active",
    ):
        assert must in checked, must


def test_a_body_the_spec_refuses_is_caught(spec_bodies: dict[str, type]) -> None:
    # The tutorial's v1 results body (no start or end) and a v2 results body naming no UUID.
    results = "/v1/api/assays/get_assay_results"
    assert problems_of(results, {"assay_id": 1}, spec_bodies[results])
    v2 = "/v2/api/assays/get_results"
    assert problems_of(v2, {"id": "3"}, spec_bodies[v2])
    versions = "/v1/api/pipelines/list_pipeline_versions"
    assert problems_of(
        versions, {"pipeline_id": "p", "workspace_id": 1, "x": 1}, spec_bodies[versions]
    )
