"""Withdrawing a remediation its alert outlived (handlers/approvals/outlived.py): one
compare-and-set against an Approve, audited as the bot with its intent first (fail closed);
only the winner tells the alert's thread, its note staged in the move's transaction, and a
failure after the move still leaves the outcome row tried again and the messages edited; an
Approve once it is due is refused with the reason. On the services' clock and the real
settings' TTL (tests/helpers/remediation_states.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from handlers.approvals.outlived import outlived_because, withdraw, withdraw_outlived
from handlers.approvals.requests import Verdict, decide
from handlers.context import Actor
from storage.approvals import ApprovalState, move
from storage.audit import AuditUnavailable, Outcome
from storage.roles import Role
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.remediation_states import BOT_WITHDREW, WITHDRAWN, remedy, watched

api_mode = both_api_modes
WILL_BE = "It will be withdrawn as stale at "
BOB = Actor(user_id="UBOB", user_name="bob")


async def test_an_approve_that_wins_the_race_is_never_told_withdrawn(
    emulator: Emulator, tmp_path: Path, database_url: str
) -> None:
    """The withdrawal and an Approve race by one compare-and-set: the approval winning, the
    alert's thread says nothing of a withdrawal (its close said only that it might be), and
    the bot's attempt is audited as refused."""
    async with watched(emulator, tmp_path, database_url) as pipe:
        request_id = await pipe.recovered_with_pending_rollback()
        pipe.pass_horizon()
        request = await pipe.state(request_id)
        async with pipe.services.sessions() as session:
            why = await outlived_because(session, request, pipe.clock())
        assert why is not None
        async with pipe.services.sessions() as session:  # Approve's move lands first
            assert await move(
                session,
                request_id,
                from_states=[ApprovalState.PENDING],
                to_state=ApprovalState.APPROVED,
                decided_by="UBOB",
            )
        assert not await withdraw(pipe.services, request, why, outlived=True)
        notes = await pipe.notes()
        assert not any("withdrawn (stale)" in n for n in notes), notes
        assert any(WILL_BE in n for n in notes), notes
        assert (await pipe.state(request_id)).state == ApprovalState.APPROVED
        assert await pipe.audited(request_id) == [
            ("bot", "rollback-stale", "intent"),
            ("bot", "rollback-stale", "refused"),
        ]


async def test_an_approve_once_it_is_due_is_refused_and_the_withdrawal_audited(
    emulator: Emulator, tmp_path: Path, database_url: str
) -> None:
    """The poller withdraws the request after its round of reminders; an Approve pressed
    between the window's end and that is refused for the same reason, not carried out, and
    the request's move audited as the bot's, as the poller's is. An alert closed for a reason
    (unwatched) leaves its request to be decided."""
    async with watched(emulator, tmp_path, database_url) as pipe:
        request_id = await pipe.recovered_with_pending_rollback()
        pipe.pass_horizon()
        answer = await decide(pipe.services, BOB, Role.APPROVER, request_id, Verdict(True))
        assert answer.outcome == Outcome.REFUSED
        assert "is stale: its alert #1 (pipe) recovered on its own at " in answer.reply.text
        request = await pipe.state(request_id)
        assert request.state == ApprovalState.STALE and request.decided_by is None
        assert await pipe.audited(request_id) == BOT_WITHDREW
        assert sum(WITHDRAWN in n for n in await pipe.notes()) == 1
        assert await withdraw_outlived(pipe.services) == 0  # already stale: nothing to do

        await pipe.seen("Error", remedy("v-new", "v-old"))  # not posted: a new episode
        second = await pipe.linked(2, ApprovalState.PENDING)
        await pipe.unwatched()
        pipe.pass_horizon()
        assert await withdraw_outlived(pipe.services) == 0
        assert (await pipe.state(second)).state == ApprovalState.PENDING


async def test_a_withdrawal_that_cannot_be_audited_moves_nothing_and_does_not_raise(
    emulator: Emulator, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with watched(emulator, tmp_path, database_url) as pipe:
        request_id = await pipe.recovered_with_pending_rollback()
        pipe.pass_horizon()
        recorded = pipe.services.audit.record

        async def unavailable(**fields: object) -> None:
            raise AuditUnavailable("attempt to write a readonly database")

        monkeypatch.setattr(pipe.services.audit, "record", unavailable)
        assert await withdraw_outlived(pipe.services) == 0  # logged; the poll goes on
        assert (await pipe.state(request_id)).state == ApprovalState.PENDING
        monkeypatch.setattr(pipe.services.audit, "record", recorded)
        assert await withdraw_outlived(pipe.services) == 1  # next round
        assert await pipe.audited(request_id) == BOT_WITHDREW


async def test_a_withdrawal_whose_outcome_row_fails_is_still_told_and_shown(
    emulator: Emulator,
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An Approve finds it due and wins the withdrawal, then its `ok` row cannot be written:
    the thread's note was staged with the move, the alert's message is still edited, the
    `ok` row is tried again, and the log says it was withdrawn (not "stays pending")."""
    async with watched(emulator, tmp_path, database_url) as pipe:
        request_id = await pipe.recovered_with_pending_rollback()
        pipe.pass_horizon()
        recorded = pipe.services.audit.record
        tries: list[str] = []

        async def no_ok_row(**fields: object) -> object:
            if fields["outcome"] == Outcome.OK:
                tries.append("ok")
                raise AuditUnavailable("database is locked")
            return await recorded(**fields)  # type: ignore[arg-type]

        monkeypatch.setattr(pipe.services.audit, "record", no_ok_row)
        with caplog.at_level(logging.WARNING):
            answer = await decide(pipe.services, BOB, Role.APPROVER, request_id, Verdict(True))
        assert answer.outcome == Outcome.REFUSED and "is stale" in answer.reply.text
        assert (await pipe.state(request_id)).state == ApprovalState.STALE
        assert sum(WITHDRAWN in n for n in await pipe.notes()) == 1
        assert any(f"request #{request_id} stale" in e for e in await pipe.edits())
        assert tries == ["ok"] * 3
        assert await pipe.audited(request_id) == [("bot", "rollback-stale", "intent")]
        assert "is withdrawn (stale) but its ok row is not audited" in caplog.text
        assert "stays pending" not in caplog.text
