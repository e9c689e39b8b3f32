"""Inference, inference logs and drift assays on the emulator, over real HTTP with the demo data."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from emulator.assays.config import format_time_z
from emulator.seed import DAY_MS, RECORDS_PER_DAY, demo_assay
from tests.helpers.emulators import Api, Emulator


@pytest.fixture(scope="module")
def demo(start_module_emulator: Callable[..., Emulator]) -> Emulator:
    return start_module_emulator(seed_demo=True, deployment_startup_seconds=0)


@pytest.fixture
def fresh_demo(start_emulator: Callable[..., Emulator]) -> Emulator:
    """A demo of its own, for tests that move the clock or change assays."""
    return start_emulator(seed_demo=True, deployment_startup_seconds=0)


def assay_body(emulator: Emulator, **changes: Any) -> dict[str, Any]:
    ids = emulator.demo
    assert ids is not None
    body = demo_assay(ids["workspace_id"], ids["pipeline_id"], ids["drift_starts_ms"] - 30 * DAY_MS)
    for dotted, value in changes.items():
        target = body
        *path, last = dotted.split("__")
        for key in path:
            target = target[key]
        target[last] = value
    return copy.deepcopy(body)


def infer_url(emulator: Emulator, api: Api) -> str:
    ids = emulator.demo
    assert ids is not None
    return api.ok(
        "admin/get_pipeline_external_url",
        {"workspace_id": ids["workspace_id"], "pipeline_name": "housepricepipe"},
    )["url"]


class TestInference:
    def test_runs_the_onnx_model_and_logs_each_row(self, fresh_demo: Emulator) -> None:
        api = fresh_demo.admin()
        url = infer_url(fresh_demo, api)
        rows = [[0.5] * 17, [-1.0] * 17]
        response = api.http.post(
            url, json={"tensor": rows}, headers={"Authorization": f"Bearer {api.token}"}
        )
        assert response.status_code == 200, response.text
        (record,) = response.json()
        assert record["model_name"] == "housepricemodel"
        (output,) = record["outputs"]
        assert output["Float"]["dim"] == [2, 1] and len(output["Float"]["data"]) == 2
        assert output["Float"]["data"][0] != output["Float"]["data"][1]
        assert record["original_data"] == {"tensor": rows}
        assert set(record) == {
            "model_name",
            "model_version",
            "pipeline_name",
            "outputs",
            "elapsed",
            "time",
            "original_data",
            "check_failures",
            "shadow_data",
        }
        logged = api.ok(
            "assays/get_baseline",
            {
                "workspace_id": fresh_demo.demo["workspace_id"],
                "pipeline_name": "housepricepipe",
                "start": format_time_z(record["time"]),
                "end": format_time_z(record["time"] + 1),
            },
        )
        assert [r["original_data"]["tensor"][0] for r in logged] == rows

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"tensor": [[1.0, 2.0]]}, "tensor rows have 2 values but the model takes 17"),
            ({"tensor": [["a"] * 17]}, "numbers"),
            ({"tensor": [[1.0] * 17, [1.0] * 16]}, "same"),
            ({"tensor": []}, "non-empty"),
            ({"data": [[1.0]]}, "tensor"),
        ],
    )
    def test_bad_tensors_are_400(self, demo: Emulator, body: dict, message: str) -> None:
        api = demo.admin()
        response = api.http.post(
            infer_url(demo, api), json=body, headers={"Authorization": f"Bearer {api.token}"}
        )
        assert response.status_code == 400
        assert message in response.json()["msg"]

    def test_undeployed_pipeline_is_404(self, fresh_demo: Emulator) -> None:
        api = fresh_demo.admin()
        url = infer_url(fresh_demo, api)
        ids = fresh_demo.demo
        api.ok(
            "pipelines/undeploy",
            {"pipeline_id": ids["pipeline_id"], "deployment_id": ids["deployment_id"]},
        )
        response = api.http.post(
            url, json={"tensor": [[0.0] * 17]}, headers={"Authorization": f"Bearer {api.token}"}
        )
        assert response.status_code == 404

    def test_inference_needs_a_token(self, demo: Emulator) -> None:
        url = infer_url(demo, demo.admin())
        assert demo.http.post(url, json={"tensor": [[0.0] * 17]}).status_code == 401


class TestLogsControl:
    def test_bulk_load_answers_the_count_and_records_come_back(self, emulator: Emulator) -> None:
        record = {
            "check_failures": [],
            "elapsed": 100,
            "model_name": "m",
            "model_version": "v",
            "original_data": {"tensor": [[1.0, 2.0]]},
            "outputs": [{"Float": {"data": [3.0], "dim": [1, 1], "v": 1}}],
            "pipeline_name": "p",
            "time": 1643673456974,
        }
        loaded = emulator.control("logs", {"pipeline_name": "p", "records": [record] * 3})
        assert loaded == {"inserted": 3}
        api = emulator.admin()
        api.ok("pipelines/create", {"pipeline_id": "p", "workspace_id": 1, "definition": {}})
        back = api.ok("assays/get_baseline", {"workspace_id": 1, "pipeline_name": "p", "limit": 2})
        assert back == [record, record]

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"records": []}, "pipeline_name"),
            ({"pipeline_name": "p"}, "records"),
            ({"pipeline_name": "p", "records": [{"time": 1}]}, "records[0]"),
        ],
    )
    def test_bad_loads_are_400_and_load_nothing(
        self, emulator: Emulator, body: dict, message: str
    ) -> None:
        response = emulator.http.post(f"{emulator.url}/emulator/logs", json=body)
        assert response.status_code == 400 and message in response.json()["msg"]
        assert not emulator.state.logs.has("p")


class TestAssayEndpoints:
    def test_create_list_and_toggle(self, fresh_demo: Emulator) -> None:
        api = fresh_demo.admin()
        created = api.ok("assays/create", assay_body(fresh_demo, name="second"))
        listed = api.ok("assays/list", {"pipeline_id": fresh_demo.demo["pipeline_id"]})
        assert [a["name"] for a in listed] == ["second", "example assay"]
        assert listed[0]["id"] == created["assay_id"]
        assert api.ok("assays/set_active", {"id": created["assay_id"], "active": False}) == {
            "id": created["assay_id"],
            "active": False,
        }
        listed = api.ok("assays/list", {"pipeline_id": fresh_demo.demo["pipeline_id"]})
        assert listed[0]["active"] is False

    def test_interactive_baseline_summarises_the_first_day(self, demo: Emulator) -> None:
        result = demo.admin().ok("assays/run_interactive_baseline", assay_body(demo))
        assert result["status"] == "BaselineRun" and result["score"] == 0.0
        summary = result["baseline_summary"]
        assert summary["count"] == pytest.approx(RECORDS_PER_DAY, rel=0.1)
        assert summary["edge_names"] == [
            "left_outlier",
            "q_20",
            "q_40",
            "q_60",
            "q_80",
            "q_100",
            "right_outlier",
        ]
        assert result["window_summary"]["edge_names"][1].startswith("e_")
        assert isinstance(result["summarizer_meta"], str)

    def test_run_interactive_scores_every_complete_day_ok_before_the_drift(
        self, demo: Emulator
    ) -> None:
        results = demo.admin().ok("assays/run_interactive", assay_body(demo))
        assert len(results) == 29  # days 1..29; day 30 (today) is not over yet
        assert {r["status"] for r in results} == {"Ok"}
        assert all(len(r["scores"]) == 7 and r["score"] < 0.05 for r in results)

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"summarizer__bin_mode": "Sideways"}, "summarizer.bin_mode"),
            ({"summarizer__num_bins": 0}, "summarizer.num_bins"),
            ({"window__width": "a fortnight"}, "window.width"),
            ({"iopath": "input 0 99"}, "iopath"),
            ({"iopath": "sideways 0 0"}, "iopath"),
            (
                {
                    "baseline__Fixed__start_at": "2001-01-01T00:00:00Z",
                    "baseline__Fixed__end_at": "2001-01-02T00:00:00Z",
                },
                "baseline",
            ),
            ({"baseline__Fixed__end_at": "yesterday"}, "baseline.Fixed.end_at"),
            ({"pipeline_name": "otherpipe"}, "pipeline_name"),
        ],
    )
    def test_bad_configs_are_400_naming_the_field(
        self, demo: Emulator, changes: dict, field: str
    ) -> None:
        api = demo.admin()
        for path in ("assays/run_interactive", "assays/run_interactive_baseline"):
            response = api.post(path, assay_body(demo, **changes))
            assert response.status_code == 400, (path, response.text)
            assert field in response.json()["msg"]

    def test_create_refuses_a_malformed_config_and_stores_nothing(self, demo: Emulator) -> None:
        api = demo.admin()
        response = api.post("assays/create", assay_body(demo, summarizer__metric="Vibes"))
        assert response.status_code == 400 and "summarizer.metric" in response.json()["msg"]
        listed = api.ok("assays/list", {"pipeline_id": demo.demo["pipeline_id"]})
        assert [a["name"] for a in listed] == ["example assay"]

    def test_unknown_assay_is_404(self, demo: Emulator) -> None:
        api = demo.admin()
        assert api.post("assays/get_results", {"assay_id": 999}).status_code == 404
        assert api.post("assays/set_active", {"id": 999, "active": True}).status_code == 404


class TestScheduledRuns:
    def test_results_arrive_as_the_clock_passes_window_ends(self, fresh_demo: Emulator) -> None:
        assay_id = fresh_demo.demo["assay_id"]
        before = fresh_demo.admin().ok("assays/get_results", {"assay_id": assay_id})
        assert len(before) == 29 and {r["status"] for r in before} == {"Ok"}
        assert [r["id"] for r in before] == sorted(r["id"] for r in before)

        fresh_demo.control("clock", {"advance_seconds": 86400})
        after = fresh_demo.admin().ok("assays/get_results", {"assay_id": assay_id})
        assert len(after) == 30
        assert after[:29] == before  # stored results do not change
        assert after[-1]["status"] == "Alert" and after[-1]["score"] >= 0.1

        limited = fresh_demo.admin().ok(
            "assays/get_results",
            {"assay_id": assay_id, "start": after[-2]["window_start"], "limit": 1},
        )
        assert [r["id"] for r in limited] == [after[-2]["id"]]

    def test_a_deactivated_assay_produces_no_results(self, fresh_demo: Emulator) -> None:
        assay_id = fresh_demo.demo["assay_id"]
        api = fresh_demo.admin()
        api.ok("assays/set_active", {"id": assay_id, "active": False})
        fresh_demo.control("clock", {"advance_seconds": 3 * 86400})
        api = fresh_demo.admin()
        assert len(api.ok("assays/get_results", {"assay_id": assay_id})) == 29
        api.ok("assays/set_active", {"id": assay_id, "active": True})
        fresh_demo.control("clock", {"advance_seconds": 86400})
        results = fresh_demo.admin().ok("assays/get_results", {"assay_id": assay_id})
        # Only the window completed after re-activation was scored.
        assert len(results) == 30 and results[-1]["status"] == "Alert"
