"""Approval requests: the compare-and-set that makes a decision (and a deploy) happen once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.approvals import ApprovalRequest, ApprovalState, create_request, get_request, move
from storage.utc import utc_now


async def stored_request(
    sessions: async_sessionmaker[AsyncSession], expires_in: timedelta
) -> ApprovalRequest:
    async with sessions() as session:
        request = await create_request(
            session,
            ApprovalRequest(
                action="deploy",
                workspace_id=1,
                workspace_name="w",
                pipeline_id=1,
                pipeline_name="p",
                deploy_id="p",
                requester_id="U1",
                channel="C1",
                expires_at=utc_now() + expires_in,
            ),
        )
        await session.commit()
        return request


async def approve(sessions: async_sessionmaker[AsyncSession], request_id: int, user: str) -> bool:
    async with sessions() as session:
        return await move(
            session,
            request_id,
            from_states=[ApprovalState.PENDING],
            to_state=ApprovalState.APPROVED,
            not_expired_at=utc_now(),
            decided_by=user,
        )


async def test_approval_compare_and_set_has_exactly_one_winner(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    request = await stored_request(sessions, timedelta(hours=1))
    wins = await asyncio.gather(*(approve(sessions, request.id or 0, f"U{i}") for i in range(20)))
    assert sum(wins) == 1
    async with sessions() as session:
        decided = await get_request(session, request.id or 0)
    assert decided is not None and decided.state == "approved"
    assert decided.decided_by == f"U{wins.index(True)}"
    assert not await approve(sessions, request.id or 0, "ULATE")  # decided is decided


async def test_an_expired_request_cannot_be_approved(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    late = await stored_request(sessions, timedelta(seconds=-1))
    assert not await approve(sessions, late.id or 0, "U2")
    async with sessions() as session:
        still = await get_request(session, late.id or 0)
    assert still is not None and still.state == "pending" and still.is_expired(utc_now())
