"""Each answer shape the client tolerates, parsed as the client parses it: the 2022 tutorial's and
today's (wallaroo-api-current.md, the wheel's generated models), with optional fields missing,
extra fields, nulls and a listing's unreadable `deployment`. Payloads are literal, as recorded."""

from __future__ import annotations

from typing import Any

import pytest

from bot.wallaroo import WallarooBadResponse
from bot.wallaroo.deployment_models import DeploymentStatus
from bot.wallaroo.models import (
    InvitedUser,
    ModelDetails,
    ModelsEnvelope,
    ModelVersionList,
    UsersEnvelope,
    WorkspaceUsersEnvelope,
    parse_response,
)
from bot.wallaroo.pipeline_models import (
    UNKNOWN,
    ListedDeployment,
    PipelineListings,
    PipelineVersionListings,
)
from bot.wallaroo.pipelines import deployment_from_url
from handlers.commands.deployments import render_status
from handlers.commands.models import model_row

TUTORIAL_MODEL = {
    "id": 1,
    "name": "apitestmodel",
    "owner_id": '""',
    "created_at": "2023-05-17T15:50:47.514195+00:00",
    "updated_at": "2023-05-17T15:50:47.514195+00:00",
}
TODAY_WORKSPACE = {
    "id": 7,
    "name": "housepricedrift",
    "archived": False,
    "created_at": "2025-02-03T10:00:00.000000+00:00",
    "created_by": "6a0b3cbc-1e0e-4e52-9d6c-1b2f9c4f5b0e",
    "group_id": 7,
}
TODAY_MODEL_ITEM = {
    "model": {
        "id": 3,
        "name": "housepricemodel",
        "owner_id": "6a0b3cbc-1e0e-4e52-9d6c-1b2f9c4f5b0e",
        "workspace_id": 7,
        "created_at": "2025-02-03T10:01:00.000000+00:00",
        "updated_at": "2025-02-03T10:02:00.000000+00:00",
    },
    "model_versions": [
        {
            "model_version": {
                "id": 11,
                "name": "housepricemodel",
                "status": "ready",
                "visibility": "private",
                "workspace_id": 7,
                "file_info": {
                    "version": "d2b5a4d4-8c1b-4a9e-9c55-0c3f5f1d8b2a",
                    "sha": "bc85ce596945f876256f41515c7501c399fd97ebcb9ab3dd41bf03f8937b4507",
                    "file_name": "housepricemodel.onnx",
                    "size": 1024,
                },
                "conversion": {"framework": "onnx", "requirements": [], "python_version": "3.8"},
            },
            "config": {"id": 21, "model_version_id": 11, "runtime": "onnx"},
        }
    ],
    "workspace": TODAY_WORKSPACE,
}


def parse(model: type, data: Any, path: str = "some/call") -> Any:
    return parse_response(model, data, path)


# --- models ---------------------------------------------------------------------------------


def test_models_list_reads_the_tutorials_flat_items() -> None:
    (model,) = parse(ModelsEnvelope, {"models": [TUTORIAL_MODEL]}).models
    assert (model.id, model.name, model.workspace_id) == (1, "apitestmodel", None)
    assert model.updated_at == TUTORIAL_MODEL["updated_at"]


def test_models_list_reads_todays_nested_items_as_one_flat_view() -> None:
    (model,) = parse(ModelsEnvelope, {"models": [TODAY_MODEL_ITEM]}).models
    assert (model.id, model.name, model.workspace_id) == (3, "housepricemodel", 7)
    assert model.created_at == "2025-02-03T10:01:00.000000+00:00"
    # What the bot does not model is kept, not dropped.
    assert model.model_extra is not None
    assert model.model_extra["workspace"]["name"] == "housepricedrift"
    assert model.model_extra["model_versions"][0]["config"]["runtime"] == "onnx"


def test_a_model_without_times_lists_and_renders() -> None:
    bare = {"model": {"id": 4, "name": "bare", "owner_id": "u", "workspace_id": 7}}
    (model,) = parse(ModelsEnvelope, {"models": [{**bare, "model_versions": []}]}).models
    assert model.created_at is None and model.updated_at is None
    assert model_row(model) == "*bare*  ·  id 4"
    (flat,) = parse(ModelsEnvelope, {"models": [TUTORIAL_MODEL]}).models
    assert model_row(flat) == "*apitestmodel*  ·  id 1  ·  updated 2023-05-17 15:50 UTC"


def test_a_models_item_without_a_name_names_the_call_and_the_field() -> None:
    broken = {"model": {"id": 4, "owner_id": "u", "workspace_id": 7}, "model_versions": []}
    with pytest.raises(WallarooBadResponse) as raised:
        parse(ModelsEnvelope, {"models": [broken]}, "models/list")
    assert "models/list" in str(raised.value) and "models.0.name" in str(raised.value)


def test_get_by_id_and_list_versions_without_todays_optional_fields() -> None:
    # V1ModelGetModelByIdResponse200: workspace_id, created_at, updated_at may be unset.
    details = parse(ModelDetails, {"id": 3, "owner_id": "u", "name": "m", "model_config": None})
    assert (details.workspace_id, details.created_at, details.config) == (None, None, None)
    # ModelsListVersionsResponse200Item: file_name may be unset; status is new.
    (version,) = parse(
        ModelVersionList,
        [
            {
                "sha": "bc85ce59",
                "models_pk_id": 3,
                "model_version": "d2b5a4d4-8c1b-4a9e-9c55-0c3f5f1d8b2a",
                "owner_id": '""',
                "model_id": "m",
                "id": 11,
                "status": "ready",
                "new_field": {"anything": 1},
            }
        ],
    ).root
    assert (version.file_name, version.status) == (None, "ready")


# --- users ----------------------------------------------------------------------------------


def test_invite_reads_the_tutorials_answer() -> None:
    invited = parse(InvitedUser, {"user_id": "5e9c9a2b", "sent_email": True})
    assert (invited.user_id, invited.sent_email, invited.password_issued) == (
        "5e9c9a2b",
        True,
        False,
    )


def test_invite_reads_todays_answer_and_never_keeps_the_password() -> None:
    password = "Tmp-Pass-8c1b-4a9e"
    invited = parse(InvitedUser, {"id": "5e9c9a2b", "password": password})
    assert (invited.user_id, invited.password_issued) == ("5e9c9a2b", True)
    for text in (repr(invited), str(invited), invited.model_dump_json(), str(invited.model_extra)):
        assert password not in text


def test_users_query_may_hold_null_users_and_users_without_a_timestamp() -> None:
    users = parse(
        UsersEnvelope,
        {
            "users": {
                "a1": {"id": "a1", "username": "admin", "email": "a@x.io", "enabled": True},
                "b2": None,
            }
        },
    ).users
    assert users["b2"] is None
    assert users["a1"] is not None and users["a1"].createdTimestamp is None


def test_workspace_members_may_lack_a_user_type() -> None:
    members = parse(
        WorkspaceUsersEnvelope, {"users": [{"user_id": "a1"}, {"user_id": "b2", "user_type": None}]}
    ).users
    assert [m.user_type for m in members] == [None, None]


# --- pipeline listings ----------------------------------------------------------------------

PIPELINE = {
    "id": 5,
    "name": "housepricepipe",
    "created_at": "2025-02-03T10:03:00.000000+00:00",
    "updated_at": "2025-02-03T10:04:00.000000+00:00",
}
VERSION_UUID = "3f2b8a3c-5d8e-4b7a-9f1e-2c6d7e8f9a0b"
TODAY_VERSION = {
    "id": "housepricepipe",
    "version": VERSION_UUID,
    "workspace_id": 7,
    "created_at": "2025-02-03T10:04:00.000000+00:00",
    "created_by": "6a0b3cbc-1e0e-4e52-9d6c-1b2f9c4f5b0e",
    "steps": {"steps": []},
}


def today_item(**extra: Any) -> dict[str, Any]:
    return {
        "pipeline": PIPELINE,
        "workspace": TODAY_WORKSPACE,
        "plateau_topic": "pipeline-5-inference",
        **extra,
    }


def listed(item: dict[str, Any]) -> Any:
    (listing,) = parse(
        PipelineListings, {"pipelines": [item]}, "pipelines/list_pipelines"
    ).pipelines
    return listing


def test_the_tutorial_era_listing_names_versions_and_the_live_deployment() -> None:
    seed = {
        "pipeline": {
            **PIPELINE,
            "pipeline_versions": [
                {"id": 9, "version": VERSION_UUID, "created_at": "2025-02-03T10:04:00+00:00"},
                {"id": 8, "version": "0a1b2c3d", "created_at": "2025-02-03T10:03:00+00:00"},
            ],
            "deployment": {
                "id": 2,
                "deploy_id": "housepricepipe",
                "deployed": True,
                "pipeline_version_id": 9,
            },
        },
        "workspace": {"id": 7, "name": "housepricedrift", "archived": False},
        "plateau_topic": "pipeline-5-inference",
    }
    listing = listed(seed)
    assert listing.lists_versions
    assert listing.pipeline.latest_version.id == 9
    assert listing.listed_deployment == ListedDeployment(
        id=2, deploy_id="housepricepipe", deployed=True, pipeline_version_id=9
    )
    seed["pipeline"]["deployment"] = None
    assert listed(seed).listed_deployment is None  # the extension says "none" explicitly


def test_todays_listing_with_a_readable_deployment() -> None:
    deployment = {
        "id": 2,
        "deploy_id": "housepricepipe",
        "deployed": True,
        "maximum_replicas": 1,
        "prewarmed_replicas": 0,
    }
    listing = listed(today_item(deployment=deployment, pipeline_version=TODAY_VERSION))
    assert not listing.lists_versions and listing.pipeline.latest_version is None
    assert listing.listed_version == VERSION_UUID
    live = listing.listed_deployment
    assert isinstance(live, ListedDeployment) and (live.id, live.deploy_id) == (2, "housepricepipe")
    undeployed = listed(today_item(deployment={**deployment, "deployed": False}))
    assert undeployed.listed_deployment is None


@pytest.mark.parametrize(
    "deployment",
    [
        {"maximum_replicas": 1, "prewarmed_replicas": 0},  # all the generated model names
        {"id": "not-a-number", "deploy_id": "x", "deployed": True},
        {"id": 2, "deploy_id": "housepricepipe"},  # no word on whether it is deployed
        "housepricepipe-2",
        [{"id": 2}],
    ],
)
def test_an_unreadable_deployment_never_breaks_a_listing(deployment: Any) -> None:
    listing = listed(today_item(deployment=deployment, pipeline_version={"version": 3}))
    assert listing.pipeline.name == "housepricepipe"
    assert listing.listed_deployment is UNKNOWN
    assert listing.listed_version is None  # a version that is not a string is no version


def test_todays_listing_without_a_deployment_says_unknown_not_undeployed() -> None:
    assert listed(today_item()).listed_deployment is UNKNOWN
    assert listed(today_item(deployment=None)).listed_deployment is UNKNOWN


def test_a_listed_pipeline_may_lack_its_times_and_carry_new_fields() -> None:
    pipeline = {"id": 5, "name": "p", "definition": {"steps": []}}
    listing = listed({**today_item(), "pipeline": pipeline, "new_top_level": True})
    assert listing.pipeline.updated_at is None
    assert listing.model_extra == {"new_top_level": True}


def test_a_listing_without_a_pipeline_name_names_the_field() -> None:
    with pytest.raises(WallarooBadResponse) as raised:
        listed({**today_item(), "pipeline": {"id": 5}})
    assert "pipelines/list_pipelines" in str(raised.value)
    assert "pipelines.0.pipeline.name" in str(raised.value)


# --- list_pipeline_versions -----------------------------------------------------------------


def test_versions_are_ordered_newest_first_by_their_creation_times() -> None:
    older = {**TODAY_VERSION, "version": "older", "created_at": "2025-02-03T09:00:00Z"}
    newer = {**TODAY_VERSION, "created_at": "2025-02-03T10:04:00.000000+00:00"}
    deployment = {"id": 2, "deploy_id": "housepricepipe", "deployed": True}
    answer = {
        "pipeline_versions": [
            today_item(pipeline_version=older, deployment=deployment),
            today_item(pipeline_version=newer),
        ]
    }
    versions = parse(PipelineVersionListings, answer).newest_first()
    assert [v.version for v in versions] == [VERSION_UUID, "older"]
    assert versions[0].id is None  # no integer pk on today's instances
    assert versions[1].deployment is not None and versions[1].deployment.id == 2


def test_versions_without_times_keep_the_answers_order() -> None:
    answer = {
        "pipeline_versions": [
            today_item(pipeline_version={"id": "p", "version": "b", "workspace_id": 7}),
            today_item(pipeline_version={"id": "p", "version": "a", "workspace_id": 7}),
        ]
    }
    assert [v.version for v in parse(PipelineVersionListings, answer).newest_first()] == ["b", "a"]


def test_a_version_without_its_uuid_names_the_field() -> None:
    answer = {"pipeline_versions": [today_item(pipeline_version={"id": "p", "workspace_id": 7})]}
    with pytest.raises(WallarooBadResponse) as raised:
        parse(PipelineVersionListings, answer, "pipelines/list_pipeline_versions")
    assert "pipeline_versions.0.pipeline_version.version" in str(raised.value)


# --- status/get_deployment ------------------------------------------------------------------

TUTORIAL_STATUS = {
    "status": "Starting",
    "details": [],
    "engines": [
        {
            "ip": None,
            "name": "engine-6f7bfc658f-c9nln",
            "status": "Pending",
            "reason": None,
            "details": [
                "containers with unready status: [engine]",
                "containers with unready status: [engine]",
            ],
            "pipeline_statuses": None,
            "model_statuses": None,
        }
    ],
    "engine_lbs": [
        {
            "ip": "10.244.4.13",
            "name": "engine-lb-c6485cfd5-45ppc",
            "status": "Running",
            "reason": None,
            "details": [],
        }
    ],
    "sidekicks": [],
}
POD_INFO = {"labels": {}, "health": "Running", "required_cpu": "1", "required_memory": "1Gi"}
TODAY_STATUS = {
    "status": "Running",
    "details": [],
    "engines": [
        {
            "info": {
                **POD_INFO,
                "ip": "10.244.0.9",
                "name": "engine-7d9c",
                "status": "Running",
                "details": [],
            },
            "pipeline_statuses": {
                "pipelines": [
                    {"id": "housepricepipe", "status": "Running", "version": VERSION_UUID}
                ]
            },
            "model_statuses": {
                "models": [
                    {
                        "name": "housepricemodel",
                        "sha": "bc85ce59",
                        "status": "Running",
                        "version": "d2b5a4d4",
                        "model_version_id": 11,
                    }
                ]
            },
        }
    ],
    "engine_lbs": [
        {
            "info": {
                **POD_INFO,
                "ip": "10.244.0.8",
                "name": "lb-1",
                "status": "Running",
                "details": [],
            }
        }
    ],
    "sidekicks": [],
    "helm": [{"info": {**POD_INFO, "name": "helm-1", "status": "Running", "details": []}}],
}


def test_a_flat_status_reads_as_before() -> None:
    status = parse(DeploymentStatus, TUTORIAL_STATUS)
    assert status.engines[0].status == "Pending" and status.engine_lbs[0].ip == "10.244.4.13"
    assert status.running_versions == set()
    assert "containers with unready status" in render_status("p", status).text + str(
        render_status("p", status).blocks
    )


def test_engines_nested_under_info_read_as_the_same_view() -> None:
    status = parse(DeploymentStatus, TODAY_STATUS)
    (engine,) = status.engines
    assert (engine.name, engine.status, engine.ip) == ("engine-7d9c", "Running", "10.244.0.9")
    assert engine.model_statuses is not None and status.engine_lbs[0].name == "lb-1"
    assert status.running_versions == {VERSION_UUID}
    rendered = str(render_status("housepricepipe", status).blocks)
    assert "engine-7d9c" in rendered and VERSION_UUID[:8] in rendered


def test_an_engine_without_a_name_names_the_field() -> None:
    broken = {**TODAY_STATUS, "engines": [{"info": {"status": "Running", "details": []}}]}
    with pytest.raises(WallarooBadResponse) as raised:
        parse(DeploymentStatus, broken, "status/get_deployment")
    assert "engines.0.name" in str(raised.value)


# --- the external URL -----------------------------------------------------------------------


def test_the_live_deployment_is_read_from_the_inference_url() -> None:
    url = "https://wallaroo.example.com/v1/api/pipelines/infer/house-price-pipe-17/houseprice"
    found = deployment_from_url(url)
    assert (found.id, found.deploy_id, found.deployed) == (17, "house-price-pipe", True)
    with pytest.raises(WallarooBadResponse) as raised:
        deployment_from_url("https://wallaroo.example.com/v1/api/pipelines/infer/nodash/p")
    assert "admin/get_pipeline_external_url" in str(raised.value)
