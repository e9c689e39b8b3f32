"""Approval requests for deploy, undeploy and rollback, and their life as a small state machine.

    pending --approve--> approved --claim--> calling --answered--> following --> succeeded
       |                                        |                     |
       +--reject--> rejected                    +-------> failed <----+
       +--(too late)--> expired
       +--(pipeline changed)--> stale

Every move is a compare-and-set (`UPDATE ... WHERE state IN (...)`): whoever changes the row
first wins, and everyone else learns they lost from the row count. That is what makes twenty
concurrent Approve clicks cause one Wallaroo call, in one process or in several.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Text, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.utc import UTCDateTime, utc_now


class ApprovalState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"  # decided; the Wallaroo call is not sent yet
    CALLING = "calling"  # claimed by one worker, which is sending the call
    FOLLOWING = "following"  # Wallaroo took the call; waiting for Running (or gone)
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    STALE = "stale"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset(
    {
        ApprovalState.SUCCEEDED,
        ApprovalState.FAILED,
        ApprovalState.REJECTED,
        ApprovalState.EXPIRED,
        ApprovalState.STALE,
    }
)
# Actions whose call is pipelines/deploy: `deploy` (the newest version) and `rollback` (an
# earlier one). Both are followed to Running; `undeploy` to gone.
DEPLOYING_ACTIONS = frozenset({"deploy", "rollback"})
# Approved but not finished: what a restarted bot must carry on with.
IN_FLIGHT_STATES = (ApprovalState.APPROVED, ApprovalState.CALLING, ApprovalState.FOLLOWING)


class ApprovalRequest(SQLModel, table=True):
    __tablename__ = "approval_requests"

    id: int | None = Field(default=None, primary_key=True)
    action: str  # deploy | undeploy | rollback
    workspace_id: int
    workspace_name: str
    pipeline_id: int
    pipeline_name: str
    # The version the request was made for: the one deployed, and the staleness check. Today's
    # Wallaroo knows a version by its UUID; the tutorial's deploys by the integer pk, kept for
    # instances that answer the old way (and for rows made before the UUID was stored).
    pipeline_version: str | None = None
    pipeline_version_id: int | None = None
    deploy_id: str
    # Undeploy: the deployment to remove. Deploy: filled in when Wallaroo answers.
    deployment_id: int | None = None
    requester_id: str
    requester_name: str = ""
    reason: str = Field(default="", sa_type=Text)
    # A deploy's or rollback's model-step diff against the version live when it was asked
    # (mrkdwn, escaped), so its message still shows it once decided. None: no diff known.
    change_summary: str | None = Field(default=None, sa_type=Text)
    # The version live when it was asked (UUID, else the tutorial's pk as text): approving is
    # refused as stale once another one is live (migration 0008). None: not deployed, or an
    # older row.
    live_version: str | None = None
    # The alert episode a remediation (a rollback or undeploy from an alert's button) answers.
    episode_id: int | None = Field(default=None, index=True)
    channel: str  # where the request was posted
    message_ts: str | None = None  # the posted message, edited in place as things move
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    state: str = Field(default=ApprovalState.PENDING, index=True)
    decided_by: str | None = None
    decided_by_name: str | None = None
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_note: str | None = Field(default=None, sa_type=Text)  # reject reason, stale cause
    call_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status: str | None = None  # the deployment status last seen while following
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str | None = Field(default=None, sa_type=Text)

    @property
    def current_state(self) -> ApprovalState:
        return ApprovalState(self.state)

    def is_expired(self, now: datetime) -> bool:
        return self.current_state is ApprovalState.PENDING and now >= self.expires_at


async def create_request(session: AsyncSession, request: ApprovalRequest) -> ApprovalRequest:
    """Stage a new request, its id assigned (the caller commits)."""
    session.add(request)
    await session.flush()
    return request


async def get_request(session: AsyncSession, request_id: int) -> ApprovalRequest | None:
    found = await session.exec(select(ApprovalRequest).where(ApprovalRequest.id == request_id))
    row = found.first()
    if row is not None:
        # Another session (or process) may have moved it; read what the database says now.
        await session.refresh(row)
    return row


async def pending_requests(session: AsyncSession, now: datetime) -> list[ApprovalRequest]:
    rows = await session.exec(
        select(ApprovalRequest)
        .where(ApprovalRequest.state == ApprovalState.PENDING, ApprovalRequest.expires_at > now)
        .order_by(col(ApprovalRequest.id))
    )
    return list(rows)


async def in_flight_requests(session: AsyncSession) -> list[ApprovalRequest]:
    rows = await session.exec(
        select(ApprovalRequest)
        .where(col(ApprovalRequest.state).in_(IN_FLIGHT_STATES))
        .order_by(col(ApprovalRequest.id))
    )
    return list(rows)


async def move(
    session: AsyncSession,
    request_id: int,
    *,
    from_states: Iterable[ApprovalState],
    to_state: ApprovalState,
    not_expired_at: datetime | None = None,
    commit: bool = True,
    **values: Any,
) -> bool:
    """Compare-and-set: move the request to `to_state` only if it is in one of `from_states`
    (and, with `not_expired_at`, has not expired by then). True for the one caller that won.

    Commits, unlike the other functions here: the winner goes on to act on its win (send the
    Wallaroo call, post the outcome), so every other worker and replica must see it first,
    and the row lock the UPDATE takes must not be held while it acts. With `commit=False`
    the caller stages what must land with the win (a note in the outbox) and commits."""
    condition = [
        col(ApprovalRequest.id) == request_id,
        col(ApprovalRequest.state).in_(list(from_states)),
    ]
    if not_expired_at is not None:
        condition.append(col(ApprovalRequest.expires_at) > not_expired_at)
    if to_state.is_final:
        values.setdefault("finished_at", utc_now())
    result = await session.exec(
        update(ApprovalRequest).where(*condition).values(state=to_state.value, **values)
    )
    if commit:
        await session.commit()
    return result.rowcount == 1


async def record_progress(session: AsyncSession, request_id: int, **values: Any) -> None:
    """Stage what was learnt along the way (message ts, deployment id, last status); the
    caller commits."""
    await session.exec(
        update(ApprovalRequest).where(col(ApprovalRequest.id) == request_id).values(**values)
    )


async def pipelines_being_undeployed(session: AsyncSession) -> set[int]:
    """Pipelines with an approved undeploy not finished yet: their deployment going away is
    the plan, not an alert."""
    rows = await session.exec(
        select(ApprovalRequest.pipeline_id).where(
            ApprovalRequest.action == "undeploy",
            col(ApprovalRequest.state).in_(IN_FLIGHT_STATES),
        )
    )
    return set(rows)
