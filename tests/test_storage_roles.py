"""Roles in a real SQLite file: bootstrap admins, grants, revokes, and the highest role winning."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.roles import (
    Role,
    RoleGrant,
    allows,
    effective_role,
    grant_role,
    list_grants,
    revoke_role,
)

NO_ADMINS: frozenset[str] = frozenset()


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


async def test_bootstrap_admins_are_admins_without_any_grant(session: AsyncSession) -> None:
    admins = frozenset({"U_BOOT"})
    assert await effective_role(session, "U_BOOT", admins) is Role.ADMIN
    assert await effective_role(session, "U_OTHER", admins) is Role.VIEWER
    assert await list_grants(session) == []


async def test_everyone_else_is_a_viewer(session: AsyncSession) -> None:
    assert await effective_role(session, "U_NOBODY", NO_ADMINS) is Role.VIEWER


async def test_a_grant_gives_the_role_and_a_revoke_takes_it_back(session: AsyncSession) -> None:
    assert await grant_role(session, "U1", Role.OPERATOR, granted_by="U_ADMIN") is True
    assert await effective_role(session, "U1", NO_ADMINS) is Role.OPERATOR
    assert await revoke_role(session, "U1", Role.OPERATOR) is True
    assert await effective_role(session, "U1", NO_ADMINS) is Role.VIEWER


async def test_the_highest_granted_role_wins(session: AsyncSession) -> None:
    await grant_role(session, "U1", Role.APPROVER, granted_by="U_ADMIN")
    await grant_role(session, "U1", Role.OPERATOR, granted_by="U_ADMIN")
    assert await effective_role(session, "U1", NO_ADMINS) is Role.APPROVER
    await grant_role(session, "U1", Role.ADMIN, granted_by="U_ADMIN")
    assert await effective_role(session, "U1", NO_ADMINS) is Role.ADMIN
    await revoke_role(session, "U1", Role.ADMIN)
    await revoke_role(session, "U1", Role.APPROVER)
    assert await effective_role(session, "U1", NO_ADMINS) is Role.OPERATOR


async def test_a_bootstrap_admin_stays_admin_whatever_is_granted(session: AsyncSession) -> None:
    await grant_role(session, "U_BOOT", Role.OPERATOR, granted_by="U_ADMIN")
    assert await effective_role(session, "U_BOOT", frozenset({"U_BOOT"})) is Role.ADMIN


async def test_granting_twice_returns_false_and_keeps_one_grant(session: AsyncSession) -> None:
    assert await grant_role(session, "U1", Role.OPERATOR, granted_by="U_A") is True
    assert await grant_role(session, "U1", Role.OPERATOR, granted_by="U_B") is False
    grants = await list_grants(session)
    assert [(g.slack_user_id, g.role, g.granted_by) for g in grants] == [("U1", "operator", "U_A")]


async def test_revoking_a_role_never_granted_returns_false(session: AsyncSession) -> None:
    assert await revoke_role(session, "U1", Role.OPERATOR) is False
    await grant_role(session, "U1", Role.APPROVER, granted_by="U_A")
    assert await revoke_role(session, "U1", Role.OPERATOR) is False
    assert await revoke_role(session, "U2", Role.APPROVER) is False
    assert await effective_role(session, "U1", NO_ADMINS) is Role.APPROVER


async def test_grants_are_listed_with_who_and_when(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    before = datetime.now(UTC)
    async with sessions() as session:
        await grant_role(session, "U2", Role.OPERATOR, granted_by="U_A")
        await grant_role(session, "U1", Role.OPERATOR, granted_by="U_A")
        await grant_role(session, "U1", Role.ADMIN, granted_by="U_B")
    async with sessions() as session:  # a fresh session: read back from the file
        grants = await list_grants(session)
    assert [(g.slack_user_id, g.role, g.granted_by) for g in grants] == [
        ("U1", "admin", "U_B"),
        ("U1", "operator", "U_A"),
        ("U2", "operator", "U_A"),
    ]
    for grant in grants:
        assert grant.granted_at.tzinfo is not None
        assert before - timedelta(seconds=1) <= grant.granted_at <= datetime.now(UTC)


async def test_an_unknown_role_in_the_database_grants_nothing(session: AsyncSession) -> None:
    # As if a newer version had stored a role this one does not know.
    session.add(RoleGrant(slack_user_id="U1", role="superuser", granted_by="U_A"))
    await session.commit()
    assert await effective_role(session, "U1", NO_ADMINS) is Role.VIEWER
    assert [g.role for g in await list_grants(session)] == ["superuser"]


def test_roles_are_ordered_viewer_operator_approver_admin() -> None:
    assert list(Role) == [Role.VIEWER, Role.OPERATOR, Role.APPROVER, Role.ADMIN]
    assert [role.rank for role in Role] == [0, 1, 2, 3]
    assert Role("approver") is Role.APPROVER


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("needed", list(Role))
def test_allows_means_at_least_the_needed_role(role: Role, needed: Role) -> None:
    order = list(Role)
    assert allows(role, needed) is (order.index(role) >= order.index(needed))
