"""What REAL Wallaroo instances answered (2023-2026, as recorded in Wallaroo's public tutorials),
parsed and rendered as the bot does: deployment status, undeploy, inference log records, users
(models: test_client_real_answers_models.py). Payloads are literal; a recorded-answer server
serves them over HTTP where the emulator would not answer so (a `null` body, say)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.services import open_services
from bot.wallaroo.deployment_models import DeploymentStatus
from bot.wallaroo.inference_logs import InferenceLogRecordList
from bot.wallaroo.models import UsersEnvelope, parse_response
from handlers.commands.deployments import render_status
from tests.helpers.commands import say
from tests.helpers.real_answers import MODEL_VERSION, PIPELINE_VERSION, SHA
from tests.helpers.recorded_wallaroo import RecordedServers


@pytest.fixture
async def recorded() -> AsyncIterator[RecordedServers]:
    async with RecordedServers() as servers:
        yield servers


# --- status/get_deployment (2025: flat engines, no `info`, no `helm`) -----------------------

FLAT_2025_STATUS = {
    "status": "Running",
    "details": [],
    "engines": [
        {
            "ip": "10.124.6.17",
            "name": "engine-5f8d9c6b7d-qxm2v",
            "status": "Running",
            "reason": None,
            "details": [],
            "pipeline_statuses": {
                "pipelines": [
                    {"id": "houseprice-estimator", "status": "Running", "version": PIPELINE_VERSION}
                ]
            },
            "model_statuses": {
                "models": [
                    {
                        "name": "house-price-prime",
                        "sha": SHA,
                        "status": "Running",
                        "version": MODEL_VERSION,
                        "model_version_id": 4,
                    }
                ]
            },
        }
    ],
    "engine_lbs": [
        {
            "ip": "10.124.6.16",
            "name": "engine-lb-84b7b9b8d4-7mq6z",
            "status": "Running",
            "reason": None,
            "details": [],
        }
    ],
    "sidekicks": [],
}


def test_a_flat_2025_status_reads_versions_and_models() -> None:
    status = parse_response(DeploymentStatus, FLAT_2025_STATUS, "status/get_deployment")
    (engine,) = status.engines
    assert engine.reason is None and status.helm == []
    assert status.running_versions == {PIPELINE_VERSION}
    rendered = str(render_status("houseprice-estimator", status).blocks)
    assert PIPELINE_VERSION[:8] in rendered and "house-price-prime (Running)" in rendered


@pytest.mark.parametrize("answer", [{}, None], ids=["2026-empty-object", "2023-null"])
async def test_undeploy_takes_an_empty_object_or_null(
    recorded: RecordedServers, answer: Any
) -> None:
    server, client = await recorded.start({"/v1/api/pipelines/undeploy": answer})
    assert await client.undeploy_pipeline(3, 7) is None
    assert server.sent["/v1/api/pipelines/undeploy"] == [{"pipeline_id": 3, "deployment_id": 7}]


# --- inference log records (assays/get_baseline) --------------------------------------------

TODAY_RECORD = {
    "time": 1743188400000,
    "in": {"tensor": [4.0, 2.5, 2900.0, 5505.0, 2.0, 0.0, 0.0, 3.0, 8.0, 2900.0, 0.0]},
    "out": {"variable": [718013.75]},
    "check_failures": [],
    "metadata": {
        "last_model": '{"model_name":"house-price-prime","model_sha":"' + SHA + '"}',
        "pipeline_version": "",
        "elapsed": [110937, 406784],
        "dropped": [],
        "partition": "engine-5f8d9c6b7d-qxm2v",
    },
    "anomaly": {"count": 0},
}
TUTORIAL_RECORD = {
    "check_failures": [],
    "elapsed": 138,
    "model_name": "housepricemodel",
    "model_version": "test_version",
    "original_data": {"tensor": [[0.67, 0.49]]},
    "outputs": [{"Float": {"data": [13.26], "dim": [1, 1], "v": 1}}],
    "pipeline_name": "housepricepipe",
    "time": 1643673456974,
}


def test_log_records_of_both_generations_parse() -> None:
    today, tutorial = parse_response(
        InferenceLogRecordList, [TODAY_RECORD, TUTORIAL_RECORD], "assays/get_baseline"
    ).root
    assert today.time == 1743188400000 and today.model == "house-price-prime"
    assert today.last_model["model_sha"] == SHA and today.anomaly == {"count": 0}
    assert today.metadata is not None and today.metadata["pipeline_version"] == ""
    assert today.model_extra is not None and today.model_extra["out"] == {"variable": [718013.75]}
    assert (tutorial.model, tutorial.elapsed, tutorial.time) == (
        "housepricemodel",
        138,
        1643673456974,
    )
    elapsed_as_list = {**TUTORIAL_RECORD, "elapsed": [110937, 406784]}
    (record,) = parse_response(InferenceLogRecordList, [elapsed_as_list], "x").root
    assert record.elapsed == [110937, 406784]


# --- users/query: the built-in admin has no email -------------------------------------------

USERS = {
    "users": {
        "a1b2c3d4-0000-4000-8000-000000000001": {
            "access": {"manageGroupMembership": True, "view": True, "manage": True},
            "createdTimestamp": 1743186572371,
            "disableableCredentialTypes": [],
            "emailVerified": False,
            "enabled": True,
            "id": "a1b2c3d4-0000-4000-8000-000000000001",
            "notBefore": 0,
            "requiredActions": [],
            "username": "admin",
        },
        "a1b2c3d4-0000-4000-8000-000000000002": {
            "access": {"view": True},
            "createdTimestamp": 1743186690000,
            "disableableCredentialTypes": [],
            "email": "john.hummel@wallaroo.ai",
            "emailVerified": True,
            "enabled": True,
            "id": "a1b2c3d4-0000-4000-8000-000000000002",
            "notBefore": 0,
            "requiredActions": [],
            "username": "john.hummel@wallaroo.ai",
        },
    }
}


async def test_the_admin_without_an_email_is_listed_by_username(
    recorded: RecordedServers, tmp_path: Path
) -> None:
    users = parse_response(UsersEnvelope, USERS, "users/query").users
    assert [u.email for u in users.values() if u is not None] == [None, "john.hummel@wallaroo.ai"]
    server, _ = await recorded.start({"/v1/api/users/query": USERS})
    async with open_services(server.bot_settings(tmp_path)) as services:
        listing = await say(services, "users")
    assert "admin" in listing and "john.hummel@wallaroo.ai" in listing
