"""Today's external inference (pandas records in and out) and pipelines/get_logs' pages, in
`current` mode; the seed still answers inference in the tutorial's shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import numpy as np
import onnxruntime
import pytest

from tests.helpers.emulator_setup import MODEL, PIPELINE, Deployed, deploy_running
from tests.helpers.emulators import Api, Emulator

RECORDS = "application/json; format=pandas-records"
FEATURES = 17


@pytest.fixture
def deployed(emulator: Emulator, admin: Api, onnx_bytes: bytes) -> Deployed:
    return deploy_running(emulator, admin, onnx_bytes)


def infer(admin: Api, deployed: Deployed, body: Any, content_type: str = RECORDS) -> httpx.Response:
    url = f"{admin.api_url}/pipelines/infer/{deployed.name}/{PIPELINE}"
    headers = {"Authorization": f"Bearer {admin.token}", "Content-Type": content_type}
    return admin.http.post(url, content=json.dumps(body), headers=headers)


def expected_outputs(onnx_bytes: bytes, rows: list[list[float]]) -> list[float]:
    session = onnxruntime.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {"float_input": np.array(rows, np.float32)})
    return out.ravel().tolist()


def test_records_keyed_by_the_models_input_name(
    admin: Api, deployed: Deployed, onnx_bytes: bytes
) -> None:
    rows = [[0.1] * FEATURES, [0.5] * FEATURES]
    answer = infer(admin, deployed, [{"float_input": row} for row in rows])
    assert answer.status_code == 200, answer.text
    records = answer.json()
    assert [r["in"] for r in records] == [{"float_input": row} for row in rows]
    outputs = [r["out"]["variable"][0] for r in records]
    assert outputs == pytest.approx(expected_outputs(onnx_bytes, rows), rel=1e-5)
    first = records[0]
    assert first["check_failures"] == [] and isinstance(first["time"], int)
    metadata = first["metadata"]
    assert json.loads(metadata["last_model"])["model_name"] == MODEL
    # Compact JSON, as real answers (Wallaroo_Tutorials, 2023-11 and 2025-02) write it.
    assert metadata["last_model"].startswith(f'{{"model_name":"{MODEL}","model_sha":"')
    assert metadata["pipeline_version"] == deployed.version
    assert len(metadata["elapsed"]) == 2 and metadata["dropped"] == []
    assert metadata["partition"].startswith("engine-")


def test_tensor_column_and_the_tutorials_body_answer_todays_records(
    admin: Api, deployed: Deployed
) -> None:
    by_column = infer(admin, deployed, [{"tensor": [1.0] * FEATURES}]).json()
    assert list(by_column[0]["in"]) == ["tensor"]
    tutorial = infer(admin, deployed, {"tensor": [[1.0] * FEATURES] * 2}, "application/json")
    assert tutorial.status_code == 200, tutorial.text
    assert len(tutorial.json()) == 2 and tutorial.json()[0]["out"] == by_column[0]["out"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([], "non-empty JSON list"),
        ([{"float_input": [1.0] * FEATURES, "extra": 1}], "unknown: extra"),
        ([{"wrong": [1.0] * FEATURES}], "'float_input' or 'tensor'"),
        ([{"float_input": ["a"] * FEATURES}], "records[0].float_input must be a list of numbers"),
        ([{"float_input": [1.0] * 3}], "the model takes 17"),
    ],
)
def test_bad_records_are_400_and_log_nothing(
    emulator: Emulator, admin: Api, deployed: Deployed, body: Any, words: str
) -> None:
    answer = infer(admin, deployed, body)
    assert answer.status_code == 400 and words in answer.json()["msg"]
    assert not emulator.state.logs.has(PIPELINE)


def test_seed_inference_answers_the_tutorials_shape(seed: Emulator, onnx_bytes: bytes) -> None:
    admin = seed.admin()
    deployed = deploy_running(seed, admin, onnx_bytes)
    (answer,) = infer(admin, deployed, {"tensor": [[0.1] * FEATURES]}, "application/json").json()
    assert answer["outputs"][0]["Float"]["dim"] == [1, 1] and "original_data" in answer
    records = infer(admin, deployed, [{"tensor": [0.1] * FEATURES}])
    assert records.status_code == 400


def load_logs(emulator: Emulator, deployed: Deployed, times_ms: list[int]) -> None:
    (version,) = emulator.admin().ok("models/get", {"id": deployed.model_id})["models"]
    records = [
        {
            "time": t,
            "model_name": MODEL,
            "model_version": version["model_version"],
            "original_data": {"tensor": [[float(k)] * FEATURES]},
            "outputs": [{"Float": {"data": [float(k)], "dim": [1, 1], "v": 1}}],
            "elapsed": 1000,
        }
        for k, t in enumerate(times_ms)
    ]
    emulator.control("logs", {"pipeline_name": PIPELINE, "records": records})


def get_logs(admin: Api, **fields: Any) -> httpx.Response:
    body = {"pipeline_name": PIPELINE, "workspace_id": 1, "order": "asc", **fields}
    return admin.post("pipelines/get_logs", body)


def test_logs_page_through_with_the_cursor_header(
    emulator: Emulator, admin: Api, deployed: Deployed
) -> None:
    times = [1_700_000_000_000 + k * 1000 for k in range(5)]
    load_logs(emulator, deployed, times)
    seen: list[int] = []
    cursor = None
    for _ in range(5):
        page = get_logs(admin, page_size=2, **({"cursor": cursor} if cursor else {}))
        assert page.status_code == 200, page.text
        seen += [r["time"] for r in page.json()]
        cursor = page.headers.get("x-iteration-cursor")
        if cursor is None:
            break
    assert seen == times
    record = get_logs(admin, page_size=1).json()[0]
    assert record["in"] == {"float_input": [0.0] * FEATURES}
    assert record["out"] == {"variable": [0.0]}
    assert record["metadata"]["pipeline_version"] == deployed.version
    newest_first = get_logs(admin, order="desc", page_size=3)
    assert [r["time"] for r in newest_first.json()] == times[::-1][:3]
    rest = get_logs(admin, order="desc", cursor=newest_first.headers["x-iteration-cursor"])
    assert [r["time"] for r in rest.json()] == times[1::-1]
    assert "x-iteration-cursor" not in rest.headers


def test_logs_window_and_inference_are_served(
    emulator: Emulator, admin: Api, deployed: Deployed
) -> None:
    times = [1_700_000_000_000 + k * 60_000 for k in range(4)]
    load_logs(emulator, deployed, times)

    def iso(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).isoformat()

    window = get_logs(admin, start_time=iso(times[1]), end_time=iso(times[3]))
    assert [r["time"] for r in window.json()] == times[1:3]
    infer(admin, deployed, [{"float_input": [9.0] * FEATURES}])
    (latest,) = get_logs(admin, order="desc", page_size=1).json()
    assert latest["in"] == {"float_input": [9.0] * FEATURES}


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"order": "sideways"}, 400, "order"),
        ({"cursor": "!!"}, 400, "cursor"),
        ({"page_size": 0}, 400, "page_size"),
        ({"start_time": "yesterday"}, 400, "start_time"),
        ({"pipeline_name": "ghost"}, 404, "ghost"),
        ({"workspace_id": 999}, 404, "999"),
    ],
)
def test_bad_log_requests(admin: Api, deployed: Deployed, fields: dict, status: int, words: str):
    answer = get_logs(admin, **fields)
    assert answer.status_code == status and words in answer.json()["msg"]


def test_empty_log_is_one_last_page(admin: Api, deployed: Deployed) -> None:
    answer = get_logs(admin)
    assert answer.json() == [] and "x-iteration-cursor" not in answer.headers


def test_get_logs_is_unknown_to_the_seed(seed: Emulator) -> None:
    answer = seed.admin().post(
        "pipelines/get_logs", {"pipeline_name": "p", "workspace_id": 1, "order": "asc"}
    )
    assert answer.status_code == 404 and answer.json() == {"msg": "Not Found", "code": 404}
