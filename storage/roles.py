"""Who may do what: roles granted to Slack users, and the checks handlers make before a write."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.utc import UTCDateTime, utc_now


class Role(StrEnum):
    """Each role includes everything the ones before it may do."""

    VIEWER = "viewer"  # read
    OPERATOR = "operator"  # create and change, request deploys
    APPROVER = "approver"  # approve or reject deploy requests
    ADMIN = "admin"  # access and user management

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {role: rank for rank, role in enumerate(Role)}


def allows(role: Role, needed: Role) -> bool:
    return role.rank >= needed.rank


class RoleGrant(SQLModel, table=True):
    """One role given to one Slack user. A user may hold several; the highest counts."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("slack_user_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    slack_user_id: str = Field(index=True)
    # Plain text rather than a database enum: adding a role later then needs no schema change.
    role: str = Field(sa_type=String(16))
    granted_by: str
    granted_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


async def grant_role(session: AsyncSession, user_id: str, role: Role, granted_by: str) -> bool:
    """Give `user_id` the role; False when they already had it.

    Commits, unlike the other functions here: the unique constraint decides a race with
    another admin, and losing it rolls the transaction back, which would take anything else
    the caller had staged with it."""
    existing = await session.exec(
        select(RoleGrant.id).where(RoleGrant.slack_user_id == user_id, RoleGrant.role == role)
    )
    if existing.first() is not None:
        return False
    session.add(RoleGrant(slack_user_id=user_id, role=role.value, granted_by=granted_by))
    try:
        await session.commit()
    except IntegrityError:
        # Another admin granted the same role between our check and our insert.
        await session.rollback()
        return False
    return True


async def revoke_role(session: AsyncSession, user_id: str, role: Role) -> bool:
    """Stage taking the role away (the caller commits); False when the user did not have it."""
    result = await session.exec(
        delete(RoleGrant).where(
            col(RoleGrant.slack_user_id) == user_id, col(RoleGrant.role) == role.value
        )
    )
    return result.rowcount > 0


async def list_grants(session: AsyncSession) -> list[RoleGrant]:
    """Every grant, by user and then from the highest role down."""
    grants = list(await session.exec(select(RoleGrant)))
    return sorted(grants, key=lambda g: (g.slack_user_id, -_rank_of(g.role), g.role))


async def effective_role(
    session: AsyncSession, user_id: str, bootstrap_admins: frozenset[str]
) -> Role:
    """What `user_id` may do: admin when CHATOPS_ADMINS names them, else their highest grant,
    else viewer."""
    if user_id in bootstrap_admins:
        return Role.ADMIN
    granted = await session.exec(select(RoleGrant.role).where(RoleGrant.slack_user_id == user_id))
    roles = [Role(name) for name in granted if name in _ROLE_NAMES]
    return max(roles, key=lambda role: role.rank, default=Role.VIEWER)


_ROLE_NAMES = frozenset(role.value for role in Role)


def _rank_of(name: str) -> int:
    # A name this version does not know (written by a newer one) sorts last and grants nothing.
    return Role(name).rank if name in _ROLE_NAMES else -1
