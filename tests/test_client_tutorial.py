"""The MLOps API tutorial, walked in its order through the bot's client against the emulator
over real HTTP; every response is checked against the tutorial's keys and types."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.wallaroo import DeploymentStatus, WallarooClient, WallarooNotFound
from tests.helpers.clients import ClientUnderTest
from tests.helpers.emulators import Emulator
from tests.helpers.shapes import TUTORIAL_SHAPES, check_shape

NEW_USER, NEW_PASSWORD = "kilvin.mitchell@wallaroo.ai", "new-user-password"


async def file_chunks(path: Path, size: int = 1024) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(size):
            yield chunk


async def wait_until_running(
    client: WallarooClient, emulator: Emulator, deploy_id: str, deployment_id: int
) -> list[DeploymentStatus]:
    """Poll as Wallaroo's SDK does, one emulator-second between polls."""
    seen = []
    for _ in range(30):
        status = await client.get_deployment_status(deploy_id, deployment_id)
        seen.append(status)
        if status.status == "Running":
            return seen
        emulator.control("clock", {"advance_seconds": 1})
    raise AssertionError(f"never Running: {[s.status for s in seen]}")


@pytest.fixture(scope="module")
def walk_emulator(start_module_emulator: Callable[..., Emulator]) -> Emulator:
    # Credentials no URL or log line could contain by accident, so the leak check means something.
    return start_module_emulator(
        admin_password="Walk-Admin-Pw-7431", client_secret="walk-secret-9d2e"
    )


async def test_tutorial_walk(
    walk_emulator: Emulator,
    make_client: Callable[..., ClientUnderTest],
    onnx_file: Path,
    onnx_bytes: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emulator = walk_emulator
    caplog.set_level(logging.DEBUG)
    under_test = make_client(
        emulator, username=emulator.config.admin_email, password=emulator.config.admin_password
    )
    client = under_test.client

    # Users
    users = await client.query_users()
    first_user_id = next(iter(users))
    assert (await client.query_users([first_user_id])).keys() == {first_user_id}
    invited = await client.invite_user(NEW_USER, NEW_PASSWORD)
    await client.deactivate_user(NEW_USER)
    assert not (await client.query_users([invited.user_id]))[invited.user_id].enabled
    await client.activate_user(NEW_USER)
    assert (await client.query_users([invited.user_id]))[invited.user_id].enabled

    # Workspaces
    admin_id = next(u.id for u in users.values() if u.email == emulator.config.admin_email)
    mine = await client.list_workspaces(user_id=admin_id)
    assert [w.name for w in mine] == [f"{emulator.config.admin_email} - Default Workspace"]
    workspace_id = await client.create_workspace("testapiworkspace-1")
    assert workspace_id in [w.id for w in await client.list_workspaces()]
    await client.add_user_to_workspace(workspace_id, NEW_USER)
    members = await client.list_workspace_users(workspace_id)
    assert {(m.user_id, m.user_type) for m in members} == {
        (admin_id, "OWNER"),
        (invited.user_id, "COLLABORATOR"),
    }
    assert await client.remove_user_from_workspace(workspace_id, email=NEW_USER) == 1
    assert [m.user_id for m in await client.list_workspace_users(workspace_id)] == [admin_id]

    # Models: multipart upload, then a stream upload of the same real ONNX file
    with onnx_file.open("rb") as handle:
        model_id = await client.upload_model(
            workspace_id, "apitestmodel", handle, "ccfraud.onnx", visibility="public"
        )
    stream_id = await client.upload_model_stream(
        workspace_id,
        "apitestmodel-stream",
        "streamfile.onnx",
        file_chunks(onnx_file),
        visibility="public",
    )
    models = await client.list_models(workspace_id)
    assert [m.id for m in models] == [stream_id, model_id]
    details = await client.get_model_by_id(stream_id)
    assert details.workspace_id == workspace_id and details.name == "apitestmodel-stream"
    (version,) = await client.list_model_versions("apitestmodel-stream", stream_id)
    assert version.sha == hashlib.sha256(onnx_bytes).hexdigest()
    assert version.file_name == "streamfile.onnx"
    assert await client.get_model_config(stream_id) is None
    model = await client.get_model(stream_id)
    assert [v.model_version for v in model.models] == [version.model_version]

    # Pipelines: one empty, one with the model
    empty = await client.create_pipeline(workspace_id, "emptypipeline")
    step = {"name": "apitestmodel-stream", "version": version.model_version, "sha": version.sha}
    with_model = await client.create_pipeline(
        workspace_id,
        "pipelinewithmodel",
        {"id": "deploywithmodel", "steps": [{"ModelInference": {"models": [step]}}]},
    )

    listed = await client.list_pipelines(workspace_id)
    assert [(p.pipeline.name, p.workspace.id) for p in listed] == [
        ("emptypipeline", workspace_id),
        ("pipelinewithmodel", workspace_id),
    ]

    # Deploy both, wait for Running
    empty_deployment = await client.deploy_pipeline(
        empty.pipeline_pk_id, empty.pipeline_variant_pk_id, "emptydeploy"
    )
    model_deployment = await client.deploy_pipeline(
        with_model.pipeline_pk_id,
        with_model.pipeline_variant_pk_id,
        "modeldeploy",
        models=[step],
    )
    history = await wait_until_running(client, emulator, "modeldeploy", model_deployment)
    await wait_until_running(client, emulator, "emptydeploy", empty_deployment)
    assert history[0].status == "Starting" and history[0].engines[0].status == "Pending"
    running = history[-1].engines[0]
    assert running.model_statuses == {"models": [{**step, "status": "Running"}]}

    # External inference URL
    url = await client.get_pipeline_external_url(workspace_id, "pipelinewithmodel")
    assert url.endswith(f"/v1/api/pipelines/infer/modeldeploy-{model_deployment}/pipelinewithmodel")

    # Undeploy both: status then answers 404
    await client.undeploy_pipeline(empty.pipeline_pk_id, empty_deployment)
    await client.undeploy_pipeline(with_model.pipeline_pk_id, model_deployment)
    with pytest.raises(WallarooNotFound):
        await client.get_deployment_status("modeldeploy", model_deployment)

    # Copy, features
    copied = await client.copy_pipeline(workspace_id, with_model.pipeline_pk_id, "copiedpipeline")
    assert copied.pipeline_version is None and copied.deployment is None
    features = await client.list_features()
    assert features.is_auth_enabled is True

    # Every answer had the tutorial's keys and types.
    checked = set()
    for exchange in under_test.exchanges:
        path = exchange.path.removeprefix("/v1/api/")
        if path in TUTORIAL_SHAPES and exchange.status == 200:
            check_shape(exchange.body, TUTORIAL_SHAPES[path], path)
            checked.add(path)
    assert checked == set(TUTORIAL_SHAPES)

    # The password grant logged in once for the whole walk; nothing secret reached the logs.
    assert len(under_test.sent("/openid-connect/token")) == 1
    token = under_test.sent("/openid-connect/token")[0].body["access_token"]
    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    for secret in (
        token,
        emulator.config.client_secret,
        emulator.config.admin_password,
        NEW_PASSWORD,
    ):
        assert secret not in logged
