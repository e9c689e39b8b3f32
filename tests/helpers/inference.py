"""Deployed pipelines and inference data for the `infer` and `logs` tests: any pipeline the
emulator runs will do, the demo's model or one uploaded in the test."""

from __future__ import annotations

import json
from typing import Any

from tests.helpers.emulators import Emulator

FEATURES = 17  # the demo's model (and tests' linear_regression_onnx) take 17 floats a row


def features(value: float, count: int = FEATURES) -> list[float]:
    return [value] * count


def records(*values: float) -> str:
    """DATA for `infer`: pandas records, one row of `value`s per value."""
    return json.dumps([{"tensor": features(v)} for v in values])


def deploy(emulator: Emulator, created: dict[str, Any], name: str) -> dict[str, Any]:
    """Deploy pipelines/create's answer `created` straight through the API (no approval), as
    `deploy_id` `name`; with `deployment_startup_seconds=0` it is Running at once."""
    body = {
        "deploy_id": name,
        "pipeline_id": created["pipeline_pk_id"],
        "pipeline_version_pk_id": created["pipeline_variant_pk_id"],
    }
    return emulator.admin().ok("pipelines/deploy", body)


def deployed_demo_pipeline(emulator: Emulator, name: str) -> dict[str, Any]:
    """A new pipeline running the demo's model, deployed, with an empty inference log."""
    created = emulator.new_demo_pipeline(name)
    deploy(emulator, created, name)
    return created
