"""A remediation its alert outlives (#15 item 1 review): a rollback asked for from an alert and
still undecided when the assay or deployment recovers on its own is withdrawn as stale, so
nobody approves a change its alert no longer needs. The alert's close says so, the request's
message shows why, Approve is refused with that reason, and the bot's step is audited. End to
end through the demo's console on both API modes; an Approve pressed before the poller's
withdrawal, and a deployment seen Running while its rollback is followed, as the poller and
the follower stage them on the services' clock."""

from __future__ import annotations

from pathlib import Path

from emulator.seed import DAY_MS
from handlers.alerting.episodes import close_episode
from handlers.alerting.remediation import show_remediation
from handlers.approvals.outlived import withdraw_outlived
from handlers.approvals.requests import Verdict, decide
from handlers.context import Actor
from handlers.render.alert_messages import CREDIT_ON_SUCCESS, details_of
from storage.approvals import ApprovalState, get_request, move
from storage.audit import Outcome
from storage.outbox import pending_messages
from storage.roles import Role
from tests.helpers.alert_flows import undrifted_day
from tests.helpers.console_scripts import GRANTS, answer_to, audit_rows
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.remediation_flows import newer_live as newer_live
from tests.helpers.remediation_flows import requests_in, run_console
from tests.helpers.remediation_states import SUBJECT, remedy, watched

api_mode = both_api_modes


def test_a_rollback_undecided_when_the_alert_recovers_is_withdrawn(
    newer_live: Emulator, tmp_path: Path
) -> None:
    assert newer_live.demo is not None
    undrifted_day(newer_live, newer_live.demo["drift_starts_ms"] + DAY_MS)  # day 2: Ok
    out = run_console(
        newer_live,
        tmp_path,
        [
            *GRANTS,
            "subscribe assay 1",
            ":advance 1d",
            ":as alice",
            ":click 6",
            ":advance 1d",
            ":as bob",
            "approve 1",
        ],
    )
    recovered = answer_to(out.split("$ :click 6\n", 1)[1], ":advance 1d")
    assert "Back to Ok" in recovered
    assert (
        "was still waiting for approval: it is withdrawn (stale), since this alert recovered on "
        "its own."
    ) in recovered
    why = "its alert #1 (example assay) recovered on its own at "
    assert "Rollback request #1 (housepricepipe): not carried out: " + why in recovered
    assert "Assay example assay: recovered (" in recovered  # not "remediated"
    assert "request #1 stale: " + why in recovered  # the alert's line follows the request
    assert "Request #1 is already stale: " + why in answer_to(out, "approve 1")
    (request,) = requests_in(tmp_path)
    assert request.state == "stale" and (request.decision_note or "").startswith(why)
    assert request.decided_by is None  # nobody decided it: the bot withdrew it
    withdrawn = [r for r in audit_rows(tmp_path) if r.command_text.startswith("request 1 ")]
    assert [(r.slack_user_id, r.action, r.outcome) for r in withdrawn] == [
        ("bot", "rollback-stale", "ok")
    ], withdrawn


async def test_an_approve_before_the_withdrawal_is_refused_with_the_alerts_recovery(
    emulator: Emulator, tmp_path: Path, database_url: str
) -> None:
    """The poller withdraws the request after its round of reminders; an Approve pressed
    between the recovery and that is refused for the same reason, not carried out. An alert
    closed for a reason (unwatched) leaves its request to be decided."""
    async with watched(emulator, tmp_path, database_url) as pipe:
        await pipe.seen("Running")
        await pipe.seen("Error", remedy("v-new", "v-old"))
        request_id = await pipe.linked(1, ApprovalState.PENDING)
        await pipe.seen("Running")  # recovered on its own
        bob = Actor(user_id="UBOB", user_name="bob")
        answer = await decide(pipe.services, bob, Role.APPROVER, request_id, Verdict(True))
        assert answer.outcome == Outcome.REFUSED
        assert "is stale: its alert #1 (pipe) recovered on its own at " in answer.reply.text
        async with pipe.services.sessions() as session:
            request = await get_request(session, request_id)
            assert request is not None and request.state == ApprovalState.STALE
            assert request.decided_by is None
        assert await withdraw_outlived(pipe.services) == 0  # already stale: nothing to do

        await pipe.seen("Error", remedy("v-new", "v-old"))  # not posted: a new episode
        second = await pipe.linked(2, ApprovalState.PENDING)
        async with pipe.services.sessions() as session:
            await close_episode(session, SUBJECT, "No longer watched", pipe.clock())
            await session.commit()
        assert await withdraw_outlived(pipe.services) == 0
        async with pipe.services.sessions() as session:
            request = await get_request(session, second)
            assert request is not None and request.state == ApprovalState.PENDING


async def test_running_seen_while_the_rollback_is_followed_is_credited_once_it_succeeds(
    emulator: Emulator, tmp_path: Path, database_url: str
) -> None:
    """The poller may see the rolled-back deployment Running before the follower marks the
    rollback succeeded: the episode closes then, and says "remediated" once it has; a
    rollback that fails leaves it plainly recovered."""
    async with watched(emulator, tmp_path, database_url) as pipe:
        await pipe.seen("Running")
        for episode_id, ending in ((1, ApprovalState.SUCCEEDED), (2, ApprovalState.FAILED)):
            await pipe.seen("Error", remedy("v-new", "v-old"))
            request_id = await pipe.linked(episode_id, ApprovalState.FOLLOWING)
            await pipe.seen("Running")
            closed = await pipe.episode(episode_id)
            assert not closed.is_open and "remediated" not in details_of(closed)
            async with pipe.services.sessions() as session:
                await move(
                    session,
                    request_id,
                    from_states=[ApprovalState.FOLLOWING],
                    to_state=ending,
                    outcome="The deployment is Running.",
                )
                request = await get_request(session, request_id)
            assert request is not None
            await show_remediation(pipe.services, request)  # as the follower's finish does
            shown = details_of(await pipe.episode(episode_id))
            assert ("remediated" in shown) is (ending is ApprovalState.SUCCEEDED), shown
            assert CREDIT_ON_SUCCESS not in shown
            pipe.clock.advance(pipe.services.settings.chatops_flap_window_seconds + 1)
        async with pipe.services.sessions() as session:
            notes = [r.body for r in await pending_messages(session) if r.kind == "thread"]
        assert (
            sum("is finishing: this episode says remediated once it succeeds" in n for n in notes)
            == 2
        )
        assert sum("*Remediated*: rolled back to version" in n for n in notes) == 1
