"""`versions WS PIPELINE` on both API modes: newest first, numbered by age (1 = the first made,
stable as versions are made), each version's model steps, the live one marked (told the way
each generation tells it), paged; how a version's definition is read into model steps and
compared; and that diff as a deploy request shows it, escaped."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.wallaroo.model_steps import ModelStep, model_steps_in
from bot.wallaroo.pipeline_models import (
    ListedDeployment,
    ListedPipelineVersion,
    PipelineVersionListings,
    VersionHistory,
)
from handlers.approvals.rollback import rollback_target
from handlers.context import CommandProblem
from handlers.render.pipeline_versions import step_changes
from tests.helpers.approval_flows import ROLES, STARTUP_SECONDS, ask, request_id_in
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.recorded_wallaroo import RecordedServers
from tests.helpers.slack_bot import Bot, running_bot
from tests.helpers.version_flows import demo_step, deploy_directly, new_version, posted_request

api_mode = both_api_modes


@pytest.fixture(scope="module")
def drift(start_module_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    return start_module_emulator(
        api=api_mode, seed_demo=True, deployment_startup_seconds=STARTUP_SECONDS
    )


@pytest.fixture
def bot(drift: Emulator, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(drift, tmp_path, **ROLES) as started:
        ask(started, "access grant <@UOPS|ops> operator")
        yield started


@pytest.fixture
def name() -> str:
    return f"p{uuid.uuid4().hex[:10]}"


def rows_of(reply: str) -> list[str]:
    """The numbered rows of a `versions` reply, as `N. uuid8 ...` lines."""
    text = "\n".join(
        block["text"]["text"]
        for block in json.loads(reply)["blocks"]
        if block.get("type") == "section"
    )
    return re.findall(r"\*\d+\.\*[^\n]*\n[^\n]*", text)


def test_versions_lists_newest_first_with_steps_and_the_live_one(
    drift: Emulator, bot: Bot, name: str
) -> None:
    step = demo_step(drift)
    first = new_version(drift, name, [step])
    second = new_version(drift, name, [])
    assert "Not deployed now." in ask(bot, f"versions housepricedrift {name}")
    deploy_directly(drift, name, first)

    reply = ask(bot, f"versions housepricedrift {name}")
    assert f"Versions of {name}" in reply
    newest, older = rows_of(reply)
    assert newest.startswith(f"*2.* `{second['pipeline_variant_version'][:8]}`")
    assert "no model step" in newest and "live" not in newest
    assert older.startswith(f"*1.* `{first['pipeline_variant_version'][:8]}`")
    assert ":large_green_circle: *live*" in older
    assert f"*housepricemodel* `{step['version'][:8]}` sha `{step['sha'][:8]}`" in older
    assert f"Live: version *1* `{first['pipeline_variant_version'][:8]}`." in reply
    assert f"/wallaroo rollback housepricedrift {name} [N]" in reply


def test_numbers_by_age_stay_put_as_versions_are_made(drift: Emulator, bot: Bot, name: str) -> None:
    """Helm-style: a new version takes the next number and renumbers none, so a number said
    before it (in a request, an alert) still names the same version; `rollback N` takes it."""
    step = demo_step(drift)
    first = new_version(drift, name, [step])
    deploy_directly(drift, name, new_version(drift, name, [step]))
    before = rows_of(ask(bot, f"versions housepricedrift {name}"))
    third = new_version(drift, name, [])
    reply = ask(bot, f"versions housepricedrift {name}")
    newest, *rest = rows_of(reply)
    assert newest.startswith(f"*3.* `{third['pipeline_variant_version'][:8]}`")
    assert rest == before  # versions 2 and 1 exactly as before, live mark and all
    assert rest[1].startswith(f"*1.* `{first['pipeline_variant_version'][:8]}`")
    assert "Live: version *2* `" in reply
    asked = ask(bot, f"rollback housepricedrift {name} 1", "UOPS")
    shown = posted_request(bot, request_id_in(asked))
    assert f"back to version 1 `{first['pipeline_variant_version'][:8]}`, replacing" in shown
    refused = ask(bot, f"rollback housepricedrift {name} 3", "UOPS")
    assert "Version 3 is newer than the live one (version 2)" in refused


def test_versions_are_paged_and_names_are_escaped(drift: Emulator, bot: Bot, name: str) -> None:
    odd = {"name": "<!here>&co", "version": "v" * 12, "sha": "s" * 12}
    made = [new_version(drift, name, [odd]) for _ in range(12)]
    reply = ask(bot, f"versions housepricedrift {name}")
    assert len(rows_of(reply)) == 10
    assert f"versions housepricedrift {name} page 2" in reply
    assert "&lt;!here&gt;&amp;co" in reply and "<!here>" not in reply
    rest = rows_of(ask(bot, f"versions housepricedrift {name} page 2"))
    assert [row.split("`")[1] for row in rest] == [
        created["pipeline_variant_version"][:8] for created in reversed(made[:2])
    ]


def test_the_emulator_shows_each_version_s_definition_in_its_mode_s_shape(
    drift: Emulator, name: str
) -> None:
    step = demo_step(drift)
    new_version(drift, name, [step])
    assert drift.demo is not None
    body = {"workspace_id": drift.demo["workspace_id"]}
    if drift.config.api == "seed":
        # This emulator's own extension of the listing: versions with their definitions.
        listed = drift.admin().ok("pipelines/list_pipelines", body)["pipelines"]
        (item,) = [i for i in listed if i["pipeline"]["name"] == name]
        (version,) = item["pipeline"]["pipeline_versions"]
        definition = version["definition"]
    else:
        # Today's LegacyPipelineVersion types `steps` as an object: the whole definition.
        answer = drift.admin().ok("pipelines/list_pipeline_versions", body | {"pipeline_id": name})
        (item,) = answer["pipeline_versions"]
        definition = item["pipeline_version"]["steps"]
        read = PipelineVersionListings.model_validate(answer).newest_first()
        assert read[0].model_steps == [ModelStep(**step)]
    assert definition["steps"] == [{"ModelInference": {"models": [step]}}]


def test_model_steps_are_found_in_every_kind_of_step() -> None:
    a = {"name": "a", "version": "va", "sha": "sa"}
    b = {"name": "b", "version": "vb", "sha": "sb"}
    c = {"name": "c", "version": "vc", "sha": "sc"}
    definition = {
        "steps": [
            {"ModelInference": {"models": [a]}},
            {"RandomSplit": {"hash_key": None, "weights": [{"model": b, "weight": 1}]}},
            {"RowsToModels": {"rows_to_models": [{"row_index": 0, "model": c}]}},
            {"Check": {"tree": ["x > 1"]}},
        ]
    }
    assert [s.name for s in model_steps_in(definition) or []] == ["a", "b", "c"]
    assert model_steps_in({}) == []  # a definition with no steps runs no model
    assert model_steps_in(None) is None  # no definition given: not known


def test_step_changes_pair_steps_by_model_name() -> None:
    def step(name: str, version: str, sha: str = "s") -> ModelStep:
        return ModelStep(name=name, version=version, sha=sha)

    live = [step("a", "1"), step("b", "1"), step("b", "2"), step("gone", "1")]
    new = [step("b", "1"), step("a", "1", "other"), step("b", "3"), step("new", "1")]
    changes = [(c.kind, c.new.name if c.new else c.old) for c in step_changes(live, new)]
    assert changes == [("changed", "a"), ("changed", "b"), ("added", "new"), ("removed", live[3])]
    assert step_changes(live, live) == []


def test_a_request_shows_steps_added_removed_and_changed_escaped(
    drift: Emulator, bot: Bot, name: str
) -> None:
    step = demo_step(drift)
    odd = {"name": "a<b>&c", "version": "1111111111", "sha": "2222222222"}
    live = new_version(drift, name, [step, odd])
    deploy_directly(drift, name, live)  # its odd model is not found: live in Error, still live
    changed = step | {"version": "33333333-aaaa", "sha": "44444444bbbb"}
    added = {"name": "<!channel> *x*", "version": "5555555555", "sha": "6666666666"}
    new_version(drift, name, [changed, added])
    request_id = request_id_in(ask(bot, f"deploy housepricedrift {name}", "UOPS"))
    shown = posted_request(bot, request_id)
    short_version, short_sha = step["version"][:8], step["sha"][:8]
    assert (
        f"\U0001f504 changed *housepricemodel*: version `{short_version}` \u2192 `33333333`, "
        f"sha `{short_sha}` \u2192 `44444444`"
    ) in shown
    assert "\u2796 removed *a&lt;b&gt;&amp;c* `11111111` sha `22222222`" in shown
    assert "\u2795 added *&lt;!channel&gt; *x** `55555555`" in shown
    assert "<!channel>" not in shown and "a<b>" not in shown


# --- a listing that does not say which version runs: the engines' status does ---------------

OLD, NEW = "1f0e0d0c-0000-4000-8000-000000000001", "2a0b0c0d-0000-4000-8000-000000000002"
WORKSPACE = {"id": 7, "name": "ws", "archived": False, "created_at": "2025-05-01T10:00:00Z"}


def _item(version: str, created_at: str, deployment: dict[str, Any] | None) -> dict[str, Any]:
    """A list_pipelines / list_pipeline_versions item as today's Wallaroo shapes it."""
    item: dict[str, Any] = {
        "pipeline": {"id": 3, "name": "est", "created_at": "2025-05-01T10:00:00Z"},
        "workspace": WORKSPACE,
        "plateau_topic": "pipeline-3-inference",
        "pipeline_version": {
            "id": "est",
            "version": version,
            "workspace_id": 7,
            "created_at": created_at,
            "steps": {
                "steps": [{"ModelInference": {"models": [{"name": "m", "version": version}]}}]
            },
        },
    }
    if deployment is not None:
        item["deployment"] = deployment
    return item


async def test_the_live_version_comes_from_the_engines_when_no_listing_says() -> None:
    deployment = {"id": 12, "deploy_id": "est", "deployed": True, "maximum_replicas": 1}
    deployment |= {"prewarmed_replicas": 0}
    engine = {
        "ip": "10.0.0.2",
        "name": "engine-1",
        "status": "Running",
        "details": [],
        "pipeline_statuses": {"pipelines": [{"id": "est", "status": "Running", "version": OLD}]},
    }
    answers = {
        "/v1/api/pipelines/list_pipelines": {
            "pipelines": [_item(NEW, "2025-05-02T10:00:00Z", deployment)]
        },
        # Neither version carries the deployment: only the engines tell.
        "/v1/api/pipelines/list_pipeline_versions": {
            "pipeline_versions": [
                _item(OLD, "2025-05-01T10:00:00Z", None),
                _item(NEW, "2025-05-02T10:00:00Z", None),
            ]
        },
        "/v1/api/status/get_deployment": {"status": "Running", "engines": [engine]},
    }
    async with RecordedServers() as servers:
        server, client = await servers.start(answers)
        (listing,) = await client.list_pipelines(7)
        history = await client.version_history(7, listing)
    assert [v.version for v in history.versions] == [NEW, OLD]  # newest first, by created_at
    assert history.live is not None and history.live.id == 12
    assert history.live_index == 1 and history.live_version is not None
    assert history.live_version.model_steps == [ModelStep(name="m", version=OLD)]
    assert server.sent["/v1/api/status/get_deployment"] == [{"name": "est-12"}]


def test_a_rollback_is_refused_while_no_one_says_which_version_is_live() -> None:
    versions = [ListedPipelineVersion(version=NEW), ListedPipelineVersion(version=OLD)]
    starting = VersionHistory(versions, ListedDeployment(id=12, deploy_id="est"), None)
    with pytest.raises(CommandProblem) as refused:
        rollback_target(starting, "ws", "est", None)
    assert "I cannot tell which version of *est* is live" in refused.value.message
    assert "says Running" in (refused.value.suggestion or "")
    # Once it is known, the default is the one before it; a prefix names one exactly.
    running = VersionHistory(versions, ListedDeployment(id=12, deploy_id="est"), 0)
    assert rollback_target(running, "ws", "est", None).version == OLD
    assert rollback_target(running, "ws", "est", OLD[:6].upper()).version == OLD


def test_a_first_deploy_shows_every_step_as_added(drift: Emulator, bot: Bot, name: str) -> None:
    step = demo_step(drift)
    created = new_version(drift, name, [step])
    request_id = request_id_in(ask(bot, f"deploy housepricedrift {name}", "UOPS"))
    shown = posted_request(bot, request_id)
    assert f"*What changes*: version 1 `{created['pipeline_variant_version'][:8]}`" in shown
    assert "Nothing is deployed now." in shown and "replacing the live" not in shown
    assert f"\u2795 added *housepricemodel* `{step['version'][:8]}`" in shown
    assert "no model step" not in shown
