"""A remediation its alert outlives (#15 item 1 review, and its fix rounds): a rollback asked
for from an alert and still undecided once the alert recovered on its own is withdrawn as
stale, so nobody approves a change its alert no longer needs: an assay's at its close, a
deployment's once healthy for half the approval TTL (withdrawal_due), within the default 1 h.
Not at the first Running of a crash loop, not while another alert of the pipeline is open;
the close says when (or that it expires first). End to end through the demo's console on both
API modes; the rest as the poller and the follower stage it, on the services' clock and the
real settings' TTL. The withdrawal itself (its races, audit, failures):
test_remediation_withdrawal.py."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from emulator.seed import DAY_MS
from handlers.alerting.remediation import show_remediation
from handlers.approvals.outlived import withdraw_outlived
from handlers.render.alert_messages import CREDIT_ON_SUCCESS, details_of
from handlers.render.times import when
from storage.alerts import AlertEpisode, EpisodeKind, assay_subject, mark_closed
from storage.approvals import ApprovalState, get_request, move
from tests.helpers.alert_flows import undrifted_day
from tests.helpers.console_scripts import GRANTS, answer_to, audit_rows, run_console
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.remediation_flows import newer_live as newer_live
from tests.helpers.remediation_flows import requests_in
from tests.helpers.remediation_states import BOT_WITHDREW, WITHDRAWN, Watched, remedy, watched

api_mode = both_api_modes
WILL_BE = "It will be withdrawn as stale at "


def test_a_rollback_undecided_when_the_alert_recovers_is_withdrawn(
    newer_live: Emulator, tmp_path: Path
) -> None:
    assert newer_live.demo is not None
    undrifted_day(newer_live, newer_live.demo["drift_starts_ms"] + DAY_MS)  # day 2: Ok
    script = [*GRANTS, "subscribe assay 1", ":advance 1d", ":as alice", ":click 6"]
    script += [":advance 1d", ":as bob", "approve 1"]
    # An assay's is withdrawn at its close, whatever the flapping window (6 h by default).
    # Its results come a day apart on the clock the bot shares with the emulator: a TTL that
    # lets the request wait for the next one (the default 1 h expires it first).
    out = run_console(newer_live, tmp_path, script, chatops_approval_ttl_seconds=3 * 86400)
    recovered = answer_to(out.split("$ :click 6\n", 1)[1], ":advance 1d")
    assert "Back to Ok" in recovered
    assert WITHDRAWN in recovered and "still waiting for approval" not in recovered, recovered
    why = "its alert #1 (example assay) recovered on its own at "
    assert "Rollback request #1 (housepricepipe): not carried out: " + why in recovered
    assert "Assay example assay: recovered (" in recovered  # not "remediated"
    assert "request #1 stale: " + why in recovered  # the alert's line follows the request
    assert "Request #1 is already stale: " + why in answer_to(out, "approve 1")
    (request,) = requests_in(tmp_path)
    assert request.state == "stale" and (request.decision_note or "").startswith(why)
    assert request.decided_by is None  # nobody decided it: the bot withdrew it
    withdrawn = [r for r in audit_rows(tmp_path) if r.command_text.startswith("request 1 ")]
    assert [(r.slack_user_id, r.action, r.outcome) for r in withdrawn] == BOT_WITHDREW


async def _close_note(pipe: Watched) -> str:
    notes = await pipe.notes()
    closes = [n for n in notes if "still waiting for approval" in n]
    assert len(closes) == 1, notes
    return closes[0]


async def test_a_crash_loops_running_poll_does_not_withdraw_its_rollback(
    emulator: Emulator, tmp_path: Path, database_url: str
) -> None:
    """Error, one Running poll, Error again: the episode reopens flapping and the rollback
    still stands past the horizon the close named (withdrawing it would refuse the approver
    the fix for the crash loop). Default settings: it expires, never withdrawn."""
    async with watched(emulator, tmp_path, database_url) as pipe:
        request_id = await pipe.recovered_with_pending_rollback()
        assert WILL_BE in await _close_note(pipe)
        assert await withdraw_outlived(pipe.services) == 0
        await pipe.seen("Error", remedy("v-new", "v-old"))  # crashes again a minute later
        reopened = details_of(await pipe.episode(1))
        assert reopened.get("flapping") and (await pipe.episode(1)).is_open
        pipe.pass_horizon()  # still in Error all along
        assert await withdraw_outlived(pipe.services) == 0
        assert (await pipe.state(request_id)).state == ApprovalState.PENDING


async def test_a_settled_flapping_episode_withdraws_its_rollback_at_its_close(
    emulator: Emulator, tmp_path: Path, database_url: str
) -> None:
    """A flapping episode closes only once Ok for the whole window: healthy long enough, so
    its close withdraws the rollback (a TTL long enough to outlast the window)."""
    async with watched(
        emulator, tmp_path, database_url, chatops_approval_ttl_seconds=86400
    ) as pipe:
        request_id = await pipe.recovered_with_pending_rollback()
        await pipe.seen("Error", remedy("v-new", "v-old"))
        await pipe.seen("Running")  # Ok again: flapping, held open
        assert await withdraw_outlived(pipe.services) == 0
        pipe.pass_window()
        await pipe.remind()  # closes it settled, then withdraws
        assert details_of(await pipe.episode(1)).get("settled")
        request = await pipe.state(request_id)
        assert request.state == ApprovalState.STALE
        assert (request.decision_note or "").startswith("its alert #1 (pipe) recovered on its own")
        assert sum(WITHDRAWN in n for n in await pipe.notes()) == 1
        assert await pipe.audited(request_id) == BOT_WITHDREW


async def test_a_rollback_is_withdrawn_at_the_time_its_alerts_close_names(
    emulator: Emulator, tmp_path: Path, database_url: str
) -> None:
    """Default settings (TTL 1 h): healthy half an hour after the close, it is withdrawn then,
    as the close note says, well before it would expire."""
    async with watched(emulator, tmp_path, database_url) as pipe:
        request_id = await pipe.recovered_with_pending_rollback()
        closed_at = (await pipe.episode(1)).closed_at
        assert closed_at is not None
        due = closed_at + timedelta(seconds=pipe.ttl / 2)
        assert f"{WILL_BE}{when(due)} if this alert stays healthy" in await _close_note(pipe)
        pipe.clock.advance(pipe.ttl / 2 - 120)  # a minute before `due`
        assert await withdraw_outlived(pipe.services) == 0
        pipe.clock.advance(120)
        assert await withdraw_outlived(pipe.services) == 1
        assert (await pipe.state(request_id)).state == ApprovalState.STALE


async def test_a_rollback_asked_long_before_the_recovery_is_said_to_expire(
    emulator: Emulator, tmp_path: Path, database_url: str
) -> None:
    """Asked 40 minutes before its alert recovers: it would expire before the horizon, and the
    close says that instead; it is never withdrawn."""
    async with watched(emulator, tmp_path, database_url) as pipe:
        await pipe.seen("Running")
        await pipe.seen("Error", remedy("v-new", "v-old"))
        await pipe.posted(1)
        request_id = await pipe.linked(1, ApprovalState.PENDING)
        pipe.clock.advance(40 * 60)
        await pipe.seen("Running")
        request = await pipe.state(request_id)
        close = await _close_note(pipe)
        assert f"It expires at {when(request.expires_at)} unless approved." in close, close
        assert WILL_BE not in close
        pipe.clock.advance((request.expires_at - pipe.clock()).total_seconds() - 60)
        assert await withdraw_outlived(pipe.services) == 0
        assert (await pipe.state(request_id)).state == ApprovalState.PENDING


async def test_not_withdrawn_while_another_alert_of_its_pipeline_is_open(
    emulator: Emulator, tmp_path: Path, database_url: str
) -> None:
    """Roll back pressed on the deployment's alert; the deployment recovers, but an assay of the
    same pipeline is still drifting: the pipeline is not healthy, the rollback stands."""
    async with watched(emulator, tmp_path, database_url) as pipe:
        assay = AlertEpisode(
            kind=EpisodeKind.ASSAY,
            subject=assay_subject(1),
            title="price assay",
            channel="CALERTS",
            severity="Alert",
            detail=json.dumps({"pipeline_name": "pipe"}),
            opened_at=pipe.clock(),
        )
        async with pipe.services.sessions() as session:
            session.add(assay)
            await session.commit()
            await session.refresh(assay)
        request_id = await pipe.recovered_with_pending_rollback(episode_id=2)
        pipe.pass_horizon()
        assert await withdraw_outlived(pipe.services) == 0
        assert (await pipe.state(request_id)).state == ApprovalState.PENDING
        async with pipe.services.sessions() as session:
            mark_closed(session, assay, pipe.clock())
            await session.commit()
        assert await withdraw_outlived(pipe.services) == 1


IN_FLIGHT_ENDINGS = [
    (ApprovalState.APPROVED, ApprovalState.SUCCEEDED),
    (ApprovalState.CALLING, ApprovalState.SUCCEEDED),
    (ApprovalState.FOLLOWING, ApprovalState.SUCCEEDED),
    (ApprovalState.FOLLOWING, ApprovalState.FAILED),
]


async def test_running_seen_while_the_rollback_is_under_way_is_credited_once_it_succeeds(
    emulator: Emulator, tmp_path: Path, database_url: str
) -> None:
    """The poller may see the rolled-back deployment Running before the rollout marks the
    rollback succeeded (approved and not yet sent, being sent, or followed): the episode
    closes then, and says "remediated" once it has; a rollback that fails leaves it plainly
    recovered."""
    async with watched(emulator, tmp_path, database_url) as pipe:
        await pipe.seen("Running")
        for episode_id, (under_way, ending) in enumerate(IN_FLIGHT_ENDINGS, start=1):
            await pipe.seen("Error", remedy("v-new", "v-old"))
            request_id = await pipe.linked(episode_id, under_way)
            await pipe.seen("Running")
            closed = await pipe.episode(episode_id)
            assert not closed.is_open and "remediated" not in details_of(closed)
            async with pipe.services.sessions() as session:
                await move(
                    session,
                    request_id,
                    from_states=[under_way],
                    to_state=ending,
                    outcome="The deployment is Running.",
                )
                request = await get_request(session, request_id)
            assert request is not None
            await show_remediation(pipe.services, request)  # as the follower's finish does
            shown = details_of(await pipe.episode(episode_id))
            credited = ending is ApprovalState.SUCCEEDED
            assert ("remediated" in shown) is credited, (under_way, shown)
            assert CREDIT_ON_SUCCESS not in shown
            pipe.pass_window()
        notes = await pipe.notes()
        finishing = "is finishing: this episode says remediated once it succeeds"
        assert sum(finishing in n for n in notes) == len(IN_FLIGHT_ENDINGS)
        assert sum("*Remediated*: rolled back to version" in n for n in notes) == 3
