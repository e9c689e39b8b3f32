"""What the pipeline-version tests share: the demo model's step, new versions of a pipeline
made and deployed as Wallaroo's own SDK would (no approval), the version live now in either
API mode's terms, and a request's message as the fake Slack recorded it."""

from __future__ import annotations

import json
from typing import Any

from tests.helpers.approval_flows import STARTUP_SECONDS
from tests.helpers.emulators import Emulator
from tests.helpers.slack_bot import Bot

DEPLOY_CALLS = "/v1/api/pipelines/deploy"


def demo_step(drift: Emulator) -> dict[str, str]:
    """The demo model's newest version as a pipeline step names it."""
    assert drift.demo is not None
    versions = drift.admin().ok(
        "models/list_versions",
        {"model_id": "housepricemodel", "models_pk_id": drift.demo["model_id"]},
    )
    return {k: versions[-1][f] for k, f in (("name", "model_id"), ("version", "model_version"))} | {
        "sha": versions[-1]["sha"]
    }


def new_version(drift: Emulator, name: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    """A new version of pipeline `name` (made if new) running `steps`: create's answer."""
    assert drift.demo is not None
    definition = {"id": name, "steps": [{"ModelInference": {"models": steps}}]} if steps else {}
    body = {"pipeline_id": name, "workspace_id": drift.demo["workspace_id"]}
    return drift.admin().ok("pipelines/create", body | {"definition": definition})


def deploy_directly(drift: Emulator, name: str, created: dict[str, Any]) -> None:
    """Deploy a version as Wallaroo's own SDK would (no approval), and let it start."""
    body = {"deploy_id": name, "pipeline_id": created["pipeline_pk_id"]}
    drift.admin().ok(
        "pipelines/deploy", body | {"pipeline_version_pk_id": created["pipeline_variant_pk_id"]}
    )
    drift.control("clock", {"advance_seconds": STARTUP_SECONDS + 1})


def live_version(drift: Emulator, name: str) -> str | None:
    """The UUID of the version Wallaroo says the pipeline's deployment runs, in either mode's
    own terms: the seed listing's pk, today's list_pipeline_versions."""
    assert drift.demo is not None
    workspace_id = drift.demo["workspace_id"]
    admin = drift.admin()
    if drift.config.api == "seed":
        listed = admin.ok("pipelines/list_pipelines", {"workspace_id": workspace_id})
        (item,) = [i for i in listed["pipelines"] if i["pipeline"]["name"] == name]
        deployment = item["pipeline"]["deployment"]
        if deployment is None:
            return None
        pk = deployment["pipeline_version_id"]
        (version,) = [v for v in item["pipeline"]["pipeline_versions"] if v["id"] == pk]
        return str(version["version"])
    body = {"pipeline_id": name, "workspace_id": workspace_id}
    items = admin.ok("pipelines/list_pipeline_versions", body)["pipeline_versions"]
    live = [i for i in items if (i.get("deployment") or {}).get("deployed")]
    return str(live[0]["pipeline_version"]["version"]) if live else None


def posted_request(bot: Bot, request_id: str) -> str:
    """The request's message as first posted, its blocks as JSON (emoji kept as characters)."""
    (posted,) = [
        p for p in bot.slack.api_calls("chat.postMessage") if f"#{request_id}" in json.dumps(p)
    ]
    return json.dumps(posted["blocks"], ensure_ascii=False)
