"""Remediation from an alert (#15 item 1), end to end on both API modes: the console's
`:click` presses the alert's "Roll back to version X" / "Undeploy" (the same handler as the
Slack button), the request is an ordinary approval request linked to the episode (four-eyes,
one Wallaroo call, audit), the episode's message follows it, and the episode closes
"remediated" once its subject is healthy again. The emulator runs over real HTTP in this
process, so its request counts and clock can be read and moved."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from emulator.seed import DAY_MS, PIPELINE
from handlers.render.alert_messages import render_episode
from storage.alerts import AlertEpisode, EpisodeKind
from storage.approvals import ApprovalRequest, ApprovalState
from storage.utc import utc_now
from tests.helpers.alert_flows import more_assays, undrifted_day
from tests.helpers.console_scripts import GRANTS, answer_to, clicks, run_console
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.remediation_flows import newer_model_live as newer_model_live
from tests.helpers.remediation_flows import requests_in
from tests.helpers.version_flows import live_version, new_version

DEPLOY_CALLS = "/v1/api/pipelines/deploy"
UNDEPLOY_CALLS = "/v1/api/pipelines/undeploy"

api_mode = both_api_modes


@pytest.fixture
def drift(newer_model_live: Emulator) -> Emulator:
    """The drift demo whose deployment runs a newer version of the demo's model."""
    return newer_model_live


def any_score(text: str) -> str:
    """`text` with its scores as S: the day's score depends on whether a record of the demo's
    live traffic fell in the second the newer version was starting (and went unanswered)."""
    return re.sub(r"(score|worst) \d+\.\d+", r"\1 S", text)


def after(out: str, line: str) -> str:
    """Everything printed after the piped `line` (its first occurrence)."""
    return out.split(f"$ {line}\n", 1)[1]


def test_a_drift_alert_is_rolled_back_approved_by_another_user_and_closes_remediated(
    drift: Emulator, tmp_path: Path
) -> None:
    assert drift.demo is not None
    newer = live_version(drift, PIPELINE)  # the newer version, live now
    # The third drifted day is Ok: the first window wholly after the rollback (made during
    # the second day, at the time of day this runs: midnight-aligned windows), so credited.
    undrifted_day(drift, drift.demo["drift_starts_ms"] + 2 * DAY_MS)
    deploys = drift.calls_to(DEPLOY_CALLS)
    out = run_console(
        drift,
        tmp_path,
        [
            *GRANTS,
            "subscribe assay 1",
            ":advance 1d",  # the first drifted day: Alert
            ":as alice",
            ":click 6",  # Roll back to version 1
            ":click 8",  # Approve, by the requester: refused
            ":advance 0",  # a poll: delivers the episode's edit
            ":as bob",
            ":click 8",  # Approve
            ":advance 0",  # the deployment cannot be Running before the clock moves
            ":advance 10",  # past its start-up; the console waits for the rollout at the end
        ],
    )
    alert = answer_to(out, ":advance 1d")
    version = re.search(r"\[6 Roll back to version 1 \(([0-9a-f]{8})\)\]  \[7 Undeploy\]", alert)
    assert version is not None, alert
    short = version.group(1)
    assert newer is not None and not newer.startswith(short)  # it offers the earlier one

    alice = after(out, ":as alice")
    asked = answer_to(alice, ":click 6")
    assert "Rollback request #1: housepricepipe" in asked
    assert "Reason: From alert #1: Assay example assay: Alert" in asked
    assert "Approval request #1 created" in asked
    assert "someone else must decide it (four-eyes)" in answer_to(alice, ":click 8")
    assert (
        f"Assay example assay: Alert (1 breaching result(s), latest score S, worst S) "
        f"· Roll back to version 1 ({short}): request #1, requested by alice; waiting for "
        "approval.\n  [1 Acknowledge]  [2 Snooze 4 h]  [3 Snooze 24 h]  [4 Run assay now]  "
        "[5 Disable assay]\n"  # no second Roll back while this one is pending
    ) in any_score(answer_to(alice, ":advance 0"))

    bob = after(out, ":as bob")
    assert "Approved request #1" in answer_to(bob, ":click 8")
    assert (
        f"· Roll back to version 1 ({short}): request #1, requested by alice, approved by bob; "
        "rolling back."
    ) in answer_to(bob, ":advance 0")
    assert "housepricepipe is rolled back" in bob
    assert drift.calls_to(DEPLOY_CALLS) == deploys + 1  # one deploy call, the rollback's
    assert str(live_version(drift, PIPELINE)).startswith(short)

    # The last edit is delivered before the console leaves; the next session (the same
    # database) does not show it again, and then the assay is Ok.
    running = f"· Running on version 1 ({short}) (request #1, requested by alice, approved by bob)."
    assert running in bob.split("housepricepipe is rolled back", 1)[1]
    later = run_console(drift, tmp_path, [":advance 0", ":advance 2d"])
    assert running not in answer_to(later, ":advance 0")
    healthy = answer_to(later, ":advance 2d")  # the second day still drifts, the third is Ok
    assert "Back to Ok" in healthy
    assert (
        f"Remediated: rolled back to version 1 (`{short}`) by request #1 (requested by alice, "
        "approved by bob)"
    ) in healthy
    assert "Assay example assay: remediated (" in healthy and running in healthy
    (request,) = requests_in(tmp_path)
    assert (request.action, request.episode_id, request.state) == ("rollback", 1, "succeeded")
    assert clicks(tmp_path, "[button] rollback episode 1") == [
        ("alice", "[button] rollback episode 1", "intent"),
        ("alice", "[button] rollback episode 1", "ok"),
    ]


def test_a_viewer_cannot_ask_for_a_remediation(drift: Emulator, tmp_path: Path) -> None:
    deploys = drift.calls_to(DEPLOY_CALLS)
    out = run_console(
        drift, tmp_path, ["subscribe assay 1", ":advance 1d", ":as viewer1", ":click 6"]
    )
    viewer = after(out, ":as viewer1")
    assert "Remediation is requested by operators; you are viewer" in answer_to(viewer, ":click 6")
    assert requests_in(tmp_path) == []
    assert drift.calls_to(DEPLOY_CALLS) == deploys
    assert clicks(tmp_path, "[button] rollback episode 1") == [
        ("viewer1", "[button] rollback episode 1", "refused")
    ]


@pytest.fixture
def failing(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    """The demo pipeline deployed just now, reporting Error for its first 30 s."""
    return start_emulator(
        api=api_mode,
        seed_demo=True,
        deployment_startup_seconds=60,
        deployment_startup_error_seconds=30,
    )


def test_a_deployment_alert_is_undeployed_and_closes_remediated(
    failing: Emulator, tmp_path: Path
) -> None:
    undeploys = failing.calls_to(UNDEPLOY_CALLS)
    out = run_console(
        failing,
        tmp_path,
        [
            *GRANTS,
            "watch housepricedrift housepricepipe",
            ":advance 1",
            ":as alice",
            ":click 4",
            ":advance 0",  # a poll: delivers the episode's edit
            ":as bob",
            ":click 5",  # the console waits for the undeploy at the end
        ],
        chatops_startup_error_grace_seconds=0,  # an Error at once is an alert
    )
    alert = answer_to(out, ":advance 1")
    assert "Deployment housepricepipe is in Error" in alert
    # One version only: nothing earlier to roll back to, so only Undeploy is offered.
    assert "[3 Snooze 24 h]  [4 Undeploy]\n" in alert and "Roll back" not in alert
    alice = after(out, ":as alice")
    asked = answer_to(alice, ":click 4")
    assert "Undeploy request #1: housepricepipe" in asked
    assert "Reason: From alert #1: Deployment housepricepipe: Error" in asked
    assert (
        "Deployment housepricepipe: Error · Undeploy: request #1, requested by alice; waiting "
        "for approval.\n  [1 Acknowledge]  [2 Snooze 4 h]  [3 Snooze 24 h]\n"
    ) in answer_to(alice, ":advance 0")
    bob = after(out, ":as bob")
    assert "Approved request #1" in answer_to(bob, ":click 5")
    assert "housepricepipe is undeployed" in bob
    # What the undeploy's end staged is delivered before the console leaves, once.
    ended = bob.split("housepricepipe is undeployed", 1)[1]
    remediated = "✅ Remediated: undeployed by request #1 (requested by alice, approved by bob)"
    assert remediated in ended
    assert (
        "Deployment housepricepipe: remediated · Undeployed (request #1, requested by alice, "
        "approved by bob)."
    ) in ended
    later = run_console(failing, tmp_path, [":advance 0"])
    assert remediated not in later
    assert failing.calls_to(UNDEPLOY_CALLS) == undeploys + 1
    (request,) = requests_in(tmp_path)
    assert (request.action, request.episode_id, request.state) == ("undeploy", 1, "succeeded")
    assert clicks(tmp_path, "[button] undeploy episode 1") == [
        ("alice", "[button] undeploy episode 1", "intent"),
        ("alice", "[button] undeploy episode 1", "ok"),
    ]


def test_a_storm_line_is_rolled_back_and_its_line_follows_the_request(
    drift: Emulator, tmp_path: Path
) -> None:
    """Two assays of the pipeline breaching in one poll: one message, a line each; the Roll
    back of one line is that line's episode's, and the group message's text follows it."""
    assert drift.demo is not None
    (second,) = more_assays(drift, 1)
    undrifted_day(drift, drift.demo["drift_starts_ms"] + 2 * DAY_MS)  # wholly after the rollback
    out = run_console(
        drift,
        tmp_path,
        [
            *GRANTS,
            "subscribe assay 1",
            f"subscribe assay {second}",
            ":advance 1d",
            ":as alice",
            ":click 6",
            ":as bob",
            ":click 15",
            ":advance 0",  # the deployment cannot be Running before the clock moves
            ":advance 10",
        ],
    )
    storm = answer_to(out, ":advance 1d")
    assert "2 open alert(s) on pipeline housepricepipe" in storm
    version = re.search(r"\[6 Roll back to version 1 \(([0-9a-f]{8})\)\]  \[7 Undeploy\]", storm)
    assert version is not None, storm
    short = version.group(1)
    alice = after(out, ":as alice")
    assert "Reason: From alert #2: Assay example assay: Alert" in answer_to(alice, ":click 6")
    bob = after(out, ":as bob")
    assert "Approved request #1" in answer_to(bob, ":click 15")
    # The group message: the first line follows the request, without its own Roll back now;
    # the other line keeps its buttons.
    rolling = any_score(answer_to(bob, ":advance 0"))
    assert (
        f"Assay example assay: Alert (1 breaching result(s), latest score S, worst S) · "
        f"Roll back to version 1 ({short}): request #1, requested by alice, approved by bob; "
        "rolling back; Assay storm 0: Alert"
    ) in rolling
    assert "[5 Disable assay]  [8 Acknowledge]" in rolling
    assert f"[13 Roll back to version 1 ({short})]  [14 Undeploy]" in rolling
    assert f"· Running on version 1 ({short}) (request #1" in bob.split("is rolled back", 1)[1]
    later = run_console(drift, tmp_path, [":advance 0", ":advance 2d"])
    healthy = answer_to(later, ":advance 2d")
    assert "example assay: ✅ Back to Ok" in healthy
    assert f"✅ Remediated: rolled back to version 1 (`{short}`) by request #1" in healthy
    assert "Assay example assay: remediated (" in healthy
    assert "Assay storm 0: recovered (" in healthy  # not remediated: nobody asked for it
    (request,) = requests_in(tmp_path)
    assert (request.episode_id, request.state) == (2, "succeeded")  # the line's, not the group's


def episode_with_remedy() -> AlertEpisode:
    remedy = {
        "workspace_id": 1,
        "pipeline_id": 1,
        "pipeline_name": "p",
        "rollback_to": {"number": 2, "version": "0123456789abcdef"},
    }
    return AlertEpisode(
        id=7,
        kind=EpisodeKind.DEPLOYMENT,
        subject="pipeline:1",
        title="p",
        channel="C1",
        severity="Error",
        detail=json.dumps({"workspace_name": "w", "remedy": remedy}),
    )


def test_a_refused_remediation_is_shown_escaped_and_may_be_asked_for_again() -> None:
    episode = episode_with_remedy()
    request = ApprovalRequest(
        id=3,
        action="rollback",
        workspace_id=1,
        workspace_name="w",
        pipeline_id=1,
        pipeline_name="p",
        pipeline_version="0123456789abcdef",
        deploy_id="p",
        requester_id="UA",
        requester_name="ann",
        channel="C1",
        expires_at=utc_now(),
        state=ApprovalState.REJECTED,
        decided_by="UB",
        decided_by_name="ben",
        decision_note="<!channel> & *not now*",
    )
    shown = render_episode(episode, utc_now(), request)
    blocks = json.dumps([b.to_dict() for b in shown.blocks])
    contexts = [b.to_dict()["elements"][0]["text"] for b in shown.blocks if b.type == "context"]
    assert (
        ":x: Roll back to version 2 (`01234567`): request #3 rejected: &lt;!channel&gt; &amp; "
        "*not now* (requested by <@UA>, rejected by <@UB>)."
    ) in contexts
    assert "<!channel>" not in blocks
    # The plain text (escaped when sent) names people by name.
    assert shown.text.endswith(
        "· Roll back to version 2 (01234567): request #3 rejected: <!channel> & *not now* "
        "(requested by ann, rejected by ben)."
    )
    assert '"action_id": "alert_rollback"' in blocks  # rejected: it may be asked for again
    request.state = ApprovalState.PENDING
    pending = json.dumps([b.to_dict() for b in render_episode(episode, utc_now(), request).blocks])
    assert "alert_rollback" not in pending and "alert_undeploy" not in pending
    assert "alert_ack" in pending


def test_a_roll_back_pressed_after_another_version_went_live_is_refused(
    drift: Emulator, tmp_path: Path
) -> None:
    """The button means "the version before the one live when the alert opened": once another
    went live, it would skip that one, so it asks nothing and points at `rollback`."""
    new_version(drift, PIPELINE, [])  # made now, deployed after the alert
    out = run_console(
        drift,
        tmp_path,
        [
            *GRANTS,
            "subscribe assay 1",
            ":advance 1d",  # the alert, with [6 Roll back to version …]
            ":as alice",
            "deploy housepricedrift housepricepipe",
            ":as bob",
            ":click 8",  # approve the deploy: another version goes live
            ":advance 0",
            ":advance 10",
            ":as alice",
            ":click 6",
        ],
    )
    assert "[6 Roll back to version " in answer_to(out, ":advance 1d")
    pressed = answer_to(after(out, ":advance 10"), ":click 6")
    assert "went live since this alert" in pressed and "nothing was requested" in pressed
    assert [r.action for r in requests_in(tmp_path)] == ["deploy"]  # no rollback asked
