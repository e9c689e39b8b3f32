"""The emulator's live traffic (emulator/traffic.py), on both API modes: the demo pipeline's
records are answered by the model version deployed and Running when they are due, none while it
is undeployed or starting, the same whenever they are read, caught up before a deploy changes
what answers, and never past the plan's end; a reset stops it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from emulator.deployments import pod_name
from emulator.onnx_models import linear_regression_onnx
from emulator.seed import (
    BAD_RELEASE_SCALE,
    DAY_MS,
    DAYS_AFTER,
    DAYS_BEFORE,
    FEATURES,
    MODEL,
    PIPELINE,
)
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.release_story import (
    advance,
    deploy_version,
    ids,
    model_versions,
    served_log,
    statuses,
    undeploy,
    version_times,
)
from tests.helpers.version_flows import live_version

api_mode = both_api_modes
STARTUP_MS = 5_000
HOUR = 3600


@pytest.fixture
def release(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    return start_emulator(
        api=api_mode, seed_demo=True, demo_story="bad-release", deployment_startup_seconds=5
    )


def v1_predictions(inputs: np.ndarray) -> np.ndarray:
    """What the demo's first model version answers, computed apart from the emulator."""
    import onnxruntime

    session = onnxruntime.InferenceSession(
        linear_regression_onnx(FEATURES, seed=7), providers=["CPUExecutionProvider"]
    )
    (out,) = session.run(None, {"float_input": inputs.astype(np.float32)})
    return np.asarray(out, np.float64).reshape(-1)


def test_records_are_answered_by_the_version_deployed_when_they_are_due(
    release: Emulator,
) -> None:
    demo = ids(release)
    release_ms = demo["release_ms"]
    advance(release, 6 * HOUR)
    log, cols = served_log(release)
    versions = np.array(model_versions(log, cols))
    before, after = cols.times < release_ms, cols.times >= release_ms + STARTUP_MS
    assert before.sum() > 29 * 1000 and after.sum() > 200
    bad = demo["bad_model_version"]
    assert set(versions[before]) != {bad} and len(set(versions[before])) == 1
    assert set(versions[after]) == {bad}
    # Nothing answered the requests due while version 2 was starting.
    assert not ((cols.times >= release_ms) & (cols.times < release_ms + STARTUP_MS)).any()
    # Through the real models: version 1's prices before, 1.25 times them after.
    prices = cols.outputs[0][:, 0]
    expected = v1_predictions(cols.inputs)
    np.testing.assert_allclose(prices[before], expected[before], rtol=1e-5)
    np.testing.assert_allclose(prices[after], expected[after] * BAD_RELEASE_SCALE, rtol=1e-4)
    assert cols.times.max() <= release_ms + 6 * HOUR * 1000 + 1000  # none from the future


def test_none_are_answered_while_undeployed_and_a_deploy_catches_up_first(
    release: Emulator,
) -> None:
    demo = ids(release)
    bad = demo["bad_model_version"]
    advance(release, 2 * HOUR)
    # No read since the release: the deploy itself must first serve those two hours by the
    # version that answered them, the bad one.
    deploy_version(release, demo["first_version_pk_id"])
    redeployed_ms = release.state.clock.now_ms()
    advance(release, 2 * HOUR)
    undeploy(release)
    undeployed_ms = release.state.clock.now_ms()
    advance(release, 3 * HOUR)
    log, cols = served_log(release)
    versions = np.array(model_versions(log, cols))
    first_two_hours = (cols.times >= demo["release_ms"]) & (cols.times < redeployed_ms)
    assert first_two_hours.sum() > 60 and set(versions[first_two_hours]) == {bad}
    rolled_back = (cols.times >= redeployed_ms) & (cols.times < undeployed_ms)
    assert rolled_back.sum() > 60 and bad not in set(versions[rolled_back])
    assert not ((cols.times >= redeployed_ms) & (cols.times < redeployed_ms + STARTUP_MS)).any()
    assert not (cols.times >= undeployed_ms).any()  # undeployed: nobody answers


def test_the_records_do_not_depend_on_when_they_are_read(
    start_emulator: Callable[..., Emulator], api_mode: str
) -> None:
    """Two demos, one read every hour, one read once: the same requests, relative to the first
    day, the same answers."""
    often, once = (
        start_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=0) for _ in range(2)
    )
    for _ in range(5):
        advance(often, HOUR)
        served_log(often)
    advance(once, 5 * HOUR)
    (_, a), (_, b) = served_log(often), served_log(once)
    # Each plan starts at its demo's first day (a day apart if they straddle midnight): the
    # same requests relative to it; only how far each was served differs.
    at_a = a.times - (ids(often)["drift_starts_ms"] - DAYS_BEFORE * DAY_MS)
    at_b = b.times - (ids(once)["drift_starts_ms"] - DAYS_BEFORE * DAY_MS)
    end = min(int(at_a.max()), int(at_b.max())) - 60_000
    keep_a, keep_b = at_a < end, at_b < end
    assert keep_a.sum() == keep_b.sum() > 30 * 1000
    np.testing.assert_array_equal(at_a[keep_a], at_b[keep_b])
    np.testing.assert_array_equal(a.inputs[keep_a], b.inputs[keep_b])
    np.testing.assert_array_equal(a.outputs[0][keep_a], b.outputs[0][keep_b])


def test_traffic_ends_at_its_cap_and_a_reset_stops_it(
    start_emulator: Callable[..., Emulator], api_mode: str
) -> None:
    demo_emulator = start_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=0)
    first_day = ids(demo_emulator)["drift_starts_ms"] - DAYS_BEFORE * DAY_MS
    advance(demo_emulator, (DAYS_AFTER + 5) * 86400)
    _, cols = served_log(demo_emulator)
    cap = first_day + (DAYS_BEFORE + DAYS_AFTER) * DAY_MS
    assert int(cols.times.max()) < cap and int(cols.times.max()) > cap - HOUR * 1000
    assert len(cols) == (DAYS_BEFORE + DAYS_AFTER) * 1440  # every planned request, once
    demo_emulator.control("reset")
    advance(demo_emulator, HOUR)
    assert not demo_emulator.state.logs.has("housepricepipe")


def test_the_first_version_was_made_before_the_first_day(release: Emulator) -> None:
    """The story's "served by version 1 for 30 days" is what Wallaroo lists: the first
    version made before the plan's first request, the bad release at start-up."""
    demo = ids(release)
    made = version_times(release)
    first_day_s = (demo["release_ms"] - DAYS_BEFORE * DAY_MS) / 1000
    assert len(made) == 2
    assert sorted(t.timestamp() < first_day_s for t in made.values()) == [False, True]
    (bad,) = [t for t in made.values() if t.timestamp() >= first_day_s]
    assert abs(bad.timestamp() * 1000 - demo["release_ms"]) < 60_000


def other_shape_model() -> bytes:
    """The demo's 17 features in, two outputs out (`variable` of 2 values, `extra` of 3): a
    model version whose records are shaped unlike the demo's first."""
    nodes, outputs, weights = [], [], []
    for name, width in (("variable", 2), ("extra", 3)):
        weights.append(numpy_helper.from_array(np.ones((FEATURES, width), np.float32), f"w_{name}"))
        nodes.append(helper.make_node("MatMul", ["float_input", f"w_{name}"], [name]))
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [None, width]))
    feature_row = helper.make_tensor_value_info("float_input", TensorProto.FLOAT, [None, FEATURES])
    graph = helper.make_graph(nodes, "other", [feature_row], outputs, weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def model_step(emulator: Emulator, which: Callable[..., Any] = max) -> dict[str, str]:
    """A step naming the demo model's newest version (`which=min`: its first)."""
    versions = emulator.admin().ok("models/get", {"id": ids(emulator)["model_id"]})["models"]
    chosen = which(versions, key=lambda v: v["id"])
    return {"name": MODEL, "version": chosen["model_version"], "sha": chosen["sha"]}


def deploy_new_version(emulator: Emulator, step: dict[str, str]) -> None:
    """A new version of the demo pipeline running `step`, deployed."""
    definition = {"id": PIPELINE, "steps": [{"ModelInference": {"models": [step]}}]}
    body = {"pipeline_id": PIPELINE, "workspace_id": ids(emulator)["workspace_id"]}
    created = emulator.admin().ok("pipelines/create", body | {"definition": definition})
    deploy_version(emulator, created["pipeline_variant_pk_id"])


def deploy_other_shape(emulator: Emulator) -> None:
    workspace_id = str(ids(emulator)["workspace_id"])
    form = {"name": MODEL, "visibility": "public", "workspace_id": workspace_id}
    emulator.http.post(
        emulator.url + "/v1/api/models/upload",
        headers={"Authorization": f"Bearer {emulator.token()}"},
        data=form,
        files={"file": ("other.onnx", other_shape_model())},
    ).raise_for_status()
    deploy_new_version(emulator, model_step(emulator))


def test_a_model_of_another_shape_is_logged_beside_the_first_and_rolled_back(
    release: Emulator,
) -> None:
    """As Wallaroo's logs change schema with a new model's: each record keeps its model's
    shape, the log stays readable and the pipeline can be rolled back."""
    demo = ids(release)
    deploy_other_shape(release)
    advance(release, 2 * HOUR)
    log, cols = served_log(release)
    (first_in, first_out), (last_in, last_out) = log.values(0), log.values(len(cols) - 1)
    assert (len(first_in), [len(o) for o in first_out]) == (FEATURES, [1])
    assert (len(last_in), [len(o) for o in last_out]) == (FEATURES, [2, 3])
    # Through the model: all-ones weights, so every output value is the features' sum.
    np.testing.assert_allclose(np.concatenate(last_out), sum(last_in), rtol=1e-4, atol=1e-4)
    deploy_version(release, demo["first_version_pk_id"])  # a log to catch up: not refused
    advance(release, DAY_MS / 1000)
    assert statuses(release, demo["price_assay_id"])[-1] in {"Ok", "Warning", "Alert"}
    # The tutorial's record shape (get_baseline, both modes): each output's own dim.
    since = datetime.fromtimestamp(demo["release_ms"] / 1000 - HOUR, UTC).isoformat()
    body = {"workspace_id": demo["workspace_id"], "pipeline_name": PIPELINE, "start": since}
    baseline = release.admin().ok("assays/get_baseline", body | {"limit": 100_000, "locations": []})
    dims = {tuple(tuple(o["Float"]["dim"]) for o in r["outputs"]) for r in baseline}
    assert dims == {((1, 1),), ((1, 2), (1, 3))}
    if release.config.api == "current":
        records = records_since(release, demo["release_ms"] - HOUR * 1000)
        outs = {tuple((k, len(v)) for k, v in r["out"].items()) for r in records}
        assert outs == {(("variable", 1),), (("variable", 2), ("extra", 3))}


def records_since(emulator: Emulator, since_ms: int) -> list[dict[str, Any]]:
    """Today's records of the demo pipeline from `since_ms` on, by get_logs."""
    body = {"pipeline_name": PIPELINE, "workspace_id": ids(emulator)["workspace_id"]}
    since = datetime.fromtimestamp(since_ms / 1000, UTC).isoformat()
    body |= {"order": "asc", "page_size": 100_000, "start_time": since}
    return emulator.admin().ok("pipelines/get_logs", body)


def labelled(emulator: Emulator, phases: list[tuple[str, int]]) -> set[tuple[str, str, str]]:
    """Each (phase, pipeline_version, partition) today's records name, from 6 hours before
    the release on; a record is in the last phase whose start (epoch ms) it is at or after."""
    records = records_since(emulator, ids(emulator)["release_ms"] - 6 * HOUR * 1000)
    found = set()
    for record in records:
        phase = [name for name, start in phases if record["time"] >= start][-1]
        found.add((phase, record["metadata"]["pipeline_version"], record["metadata"]["partition"]))
    return found


def test_records_keep_the_version_and_pod_that_answered_them(
    start_emulator: Callable[..., Emulator],
) -> None:
    """Today's records name the pipeline version and engine pod that answered each, history
    included, and later deploys relabel none of them, even of the same model (`current` only:
    the tutorial's records name neither)."""
    release = start_emulator(
        api="current", seed_demo=True, demo_story="bad-release", deployment_startup_seconds=5
    )
    demo = ids(release)
    pod = pod_name("engine", demo["deployment_id"])
    first = version_times(release)
    advance(release, 2 * HOUR)
    bad = live_version(release, PIPELINE)
    (first_version,) = set(first) - {bad}
    phases = [("history", 0), ("release", demo["release_ms"])]
    assert labelled(release, phases) == {("history", first_version, pod), ("release", bad, pod)}
    # The first model again, in a new pipeline version: its earlier records keep theirs.
    deploy_new_version(release, model_step(release, min))
    again = live_version(release, PIPELINE)
    phases.append(("again", release.state.clock.now_ms()))
    advance(release, 2 * HOUR)
    assert labelled(release, phases) == {
        ("history", first_version, pod),
        ("release", bad, pod),
        ("again", again, pod),
    }
