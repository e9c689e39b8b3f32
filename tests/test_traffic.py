"""The emulator's live traffic (emulator/traffic.py), on both API modes: the demo pipeline's
records are answered by the model version deployed and Running when they are due, none while it
is undeployed or starting, the same whenever they are read, caught up before a deploy changes
what answers, and never past the plan's end; a reset stops it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from emulator.onnx_models import linear_regression_onnx
from emulator.seed import BAD_RELEASE_SCALE, DAY_MS, DAYS_AFTER, DAYS_BEFORE, FEATURES
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.release_story import (
    advance,
    deploy_version,
    ids,
    model_versions,
    served_log,
    undeploy,
)

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
    first_a = ids(often)["drift_starts_ms"] - DAYS_BEFORE * DAY_MS
    first_b = ids(once)["drift_starts_ms"] - DAYS_BEFORE * DAY_MS
    # The same day (same midnight): the plans are the same; only how far each was served differs.
    assert first_a == first_b
    end = min(int(a.times.max()), int(b.times.max())) - 60_000
    keep_a, keep_b = a.times < end, b.times < end
    assert keep_a.sum() == keep_b.sum() > 30 * 1000
    np.testing.assert_array_equal(a.times[keep_a], b.times[keep_b])
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
