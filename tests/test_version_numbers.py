"""Pipeline versions numbered by age, Helm-style (1 = the first made, the newest highest),
without Wallaroo: how a history numbers its versions, how a request's heading words a change
(a rollback reads as going back), and an alert stored before the numbering (its remedy kept a
newest-first `position`) naming its version by UUID alone rather than by a stale number."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.wallaroo.pipeline_models import ListedDeployment, ListedPipelineVersion, VersionHistory
from handlers.approvals.rollback import index_of
from handlers.context import CommandProblem
from handlers.render.alert_remediation import remediation_buttons, remediation_text
from handlers.render.pipeline_versions import VersionChange, change_heading
from storage.approvals import ApprovalRequest, ApprovalState
from storage.utc import utc_now
from tests.helpers.recorded_wallaroo import RecordedServers

# Newest first, as the client lists them: c was made last, a first.
A, B, C = (ListedPipelineVersion(version=f"{x * 8}-0000-4000-8000-000000000000") for x in "abc")
LIVE = ListedDeployment(id=1, deploy_id="p")


def history(live_index: int | None) -> VersionHistory:
    return VersionHistory([C, B, A], LIVE, live_index)


def test_a_history_numbers_its_versions_by_age() -> None:
    made = history(1)
    assert [made.number_at(i) for i in range(3)] == [3, 2, 1]
    assert [made.index_of_number(n) for n in (1, 2, 3, 0, 4)] == [2, 1, 0, None, None]
    assert made.live_number == 2 and history(None).live_number is None
    assert index_of(made.versions, "1", "`versions`") == 2  # a typed number is by age too
    with pytest.raises(CommandProblem) as refused:
        index_of(made.versions, "4", "`versions`")
    assert "There is no version 4: the pipeline has 3 (1 is the first made" in str(refused.value)


@pytest.mark.parametrize(
    ("target", "live_index", "heading"),
    [
        (A, 1, "back to version 1 `aaaaaaaa`, replacing the live version 2 `bbbbbbbb`"),
        (C, 1, "version 3 `cccccccc`, replacing the live version 2 `bbbbbbbb`"),
        (B, 1, "version 2 `bbbbbbbb`, the one live now"),
        (C, None, "version 3 `cccccccc`"),
    ],
)
def test_a_requests_heading_says_which_way_it_goes(
    target: ListedPipelineVersion, live_index: int | None, heading: str
) -> None:
    assert change_heading(VersionChange.of(history(live_index), target)) == (
        f"*What changes*: {heading}"
    )


def rollback_request(version: str) -> ApprovalRequest:
    return ApprovalRequest(
        id=4,
        action="rollback",
        workspace_id=1,
        workspace_name="w",
        pipeline_id=1,
        pipeline_name="p",
        pipeline_version=version,
        deploy_id="p",
        requester_id="UA",
        requester_name="ann",
        channel="C1",
        expires_at=utc_now(),
        state=ApprovalState.SUCCEEDED,
        decided_by="UB",
        decided_by_name="ben",
    )


def labels(remedy: dict) -> list[str]:
    return [button.to_dict()["text"]["text"] for button in remediation_buttons("7", remedy)]


def test_an_alert_names_the_version_by_its_number_by_age() -> None:
    remedy = {"rollback_to": {"number": 1, "version": A.version}}
    assert labels(remedy) == ["Roll back to version 1 (aaaaaaaa)", "Undeploy"]
    done = remediation_text(rollback_request(A.version), remedy, plain=True)
    assert done.startswith("rolled back to version 1 (aaaaaaaa) by request #4")


def test_an_alert_stored_with_a_newest_first_position_names_the_uuid_alone() -> None:
    # Stored before numbering by age: position 2 was "the second newest" then.
    remedy = {"rollback_to": {"position": 2, "version": A.version}}
    assert labels(remedy) == ["Roll back to version aaaaaaaa", "Undeploy"]
    done = remediation_text(rollback_request(A.version), remedy, plain=True)
    assert done.startswith("rolled back to version aaaaaaaa by request #4")


# Three versions as each generation may answer them, out of creation order; b made last.
MADE = {"a": "2026-10-01T10:00:00Z", "c": "2026-11-01T10:00:00Z", "b": "2026-11-20T10:00:00Z"}
WORKSPACE = {"id": 7, "name": "ws", "archived": False}
PIPELINE = {"id": 3, "name": "est"}


def tutorial_era() -> dict[str, Any]:
    """The tutorial-era listing (versions inside it, by pk); list_pipeline_versions is 404."""
    versions = [
        {"id": n, "version": f"{x * 8}-uuid", "created_at": MADE[x]} for n, x in enumerate("cab")
    ]
    pipeline = PIPELINE | {"pipeline_versions": versions, "deployment": None}
    listing = {"pipeline": pipeline, "workspace": WORKSPACE}
    return {"/v1/api/pipelines/list_pipelines": {"pipelines": [listing]}}


def today() -> dict[str, Any]:
    def item(x: str) -> dict[str, Any]:
        version = {"id": "est", "version": f"{x * 8}-uuid", "created_at": MADE[x], "steps": {}}
        return {"pipeline": PIPELINE, "workspace": WORKSPACE, "pipeline_version": version}

    return {
        "/v1/api/pipelines/list_pipelines": {"pipelines": [item("b")]},
        "/v1/api/pipelines/list_pipeline_versions": {"pipeline_versions": [item(x) for x in "cab"]},
    }


@pytest.mark.parametrize("answers", [tutorial_era, today], ids=["seed", "current"])
async def test_both_generations_number_versions_by_creation_time(
    answers: Callable[[], dict[str, Any]],
) -> None:
    async with RecordedServers() as servers:
        _, client = await servers.start(answers())
        (listing,) = await client.list_pipelines(7)
        versions = await client.list_pipeline_versions(7, listing)
    made = VersionHistory(versions, None)
    numbered = {made.number_at(i): v.version[:1] for i, v in enumerate(versions)}
    assert numbered == {1: "a", 2: "c", 3: "b"}
