"""The arguments of the bot's own commands, which ask nothing of Wallaroo: help, approval
requests, access (roles) and the audit log (arguments.py says why a class per command).
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.render.mrkdwn import UserRef
from storage.roles import Role


@dataclass(frozen=True, kw_only=True)
class Help:
    area: str | None  # the area asked about (already one of AREAS), or None for all


@dataclass(frozen=True, kw_only=True)
class Features:
    page: int = 1


@dataclass(frozen=True, kw_only=True)
class ApprovalList:
    page: int = 1


@dataclass(frozen=True, kw_only=True)
class Approve:
    request_id: int


@dataclass(frozen=True, kw_only=True)
class Reject:
    request_id: int
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class AccessList:
    page: int = 1


@dataclass(frozen=True, kw_only=True)
class AccessGrant:
    user: UserRef
    role: Role


@dataclass(frozen=True, kw_only=True)
class AccessRevoke:
    user: UserRef
    role: Role


@dataclass(frozen=True, kw_only=True)
class AuditList:
    n: int | None = None  # how many entries (20 when not given)
    page: int = 1
