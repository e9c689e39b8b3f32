"""What the live-traffic and bad-release tests share: the demo pipeline's log as the emulator
serves it, an assay's result statuses in either API mode (and its v2 twin's), when each of its
versions was made, and deploying or undeploying the demo pipeline through the emulator's API, as
Wallaroo's own SDK would."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from emulator.inference_logs import LogColumns, PipelineLog
from emulator.seed import PIPELINE
from tests.helpers.emulators import Api, Emulator

EVER = {"start": "2000-01-01T00:00:00+00:00", "end": "2100-01-01T00:00:00+00:00"}


def served_log(emulator: Emulator) -> tuple[PipelineLog, LogColumns]:
    """The demo pipeline's log as of the emulator's clock (reading it serves what is due)."""
    log = emulator.state.logs.pipeline(PIPELINE)
    return log, log.columns()


def model_versions(log: PipelineLog, columns: LogColumns) -> list[str]:
    """Each record's model version."""
    return [log.models[code][1] for code in columns.model_codes.tolist()]


def statuses(emulator: Emulator, assay_id: int) -> list[str]:
    """A v1 assay's result statuses, oldest first, by either mode's call."""
    api = emulator.admin()
    if emulator.config.api == "current":
        results = api.ok("assays/get_assay_results", {"assay_id": assay_id, **EVER})
    else:
        results = api.ok("assays/get_results", {"assay_id": assay_id})
    return [r["status"] for r in results]


def v2_statuses(emulator: Emulator, assay_id: str) -> list[str]:
    v2 = Api(emulator.url + "/v2/api/assays", emulator.token(), emulator.http)
    return [r["status"] for r in v2.ok("get_results", {"id": assay_id})]


def deploy_version(emulator: Emulator, version_pk_id: int) -> None:
    """Deploy the demo pipeline's version `version_pk_id` under the demo's deployment name."""
    assert emulator.demo is not None
    body = {"deploy_id": PIPELINE, "pipeline_id": emulator.demo["pipeline_id"]}
    emulator.admin().ok("pipelines/deploy", body | {"pipeline_version_pk_id": version_pk_id})


def undeploy(emulator: Emulator) -> None:
    assert emulator.demo is not None
    body = {"pipeline_id": emulator.demo["pipeline_id"]}
    emulator.admin().ok(
        "pipelines/undeploy", body | {"deployment_id": emulator.demo["deployment_id"]}
    )


def version_times(emulator: Emulator) -> dict[str, datetime]:
    """The demo pipeline's versions (UUID) and when each was made, by either mode's listing."""
    demo = ids(emulator)
    api = emulator.admin()
    if emulator.config.api == "seed":
        listed = api.ok("pipelines/list_pipelines", {"workspace_id": demo["workspace_id"]})
        (item,) = [i for i in listed["pipelines"] if i["pipeline"]["name"] == PIPELINE]
        made = [(v["version"], v["created_at"]) for v in item["pipeline"]["pipeline_versions"]]
    else:
        body = {"pipeline_id": PIPELINE, "workspace_id": demo["workspace_id"]}
        items = api.ok("pipelines/list_pipeline_versions", body)["pipeline_versions"]
        made = [
            (i["pipeline_version"]["version"], i["pipeline_version"]["created_at"]) for i in items
        ]
    return {version: datetime.fromisoformat(at) for version, at in made}


def advance(emulator: Emulator, seconds: float) -> None:
    emulator.control("clock", {"advance_seconds": seconds})


def ids(emulator: Emulator) -> dict[str, Any]:
    assert emulator.demo is not None
    return emulator.demo
