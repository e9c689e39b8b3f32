"""The arguments of the alerting commands: assays, watches and subscriptions, and daily
digests (arguments.py says why a class per command).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from handlers.commands.arguments_wallaroo import Ref
from handlers.render.mrkdwn import ChannelRef, UserRef

# A v1 assay's number; a v2 assay's UUID or its first characters (lower case); or 6 to 8
# digits kept as typed, which may be either (the lookup tries both).
AssayId = int | str


@dataclass(frozen=True, kw_only=True)
class AssayList:
    workspace: Ref
    pipeline: Ref
    page: int = 1


@dataclass(frozen=True, kw_only=True)
class AssayCreate:
    workspace: Ref
    pipeline: Ref
    options: dict[str, str] = field(default_factory=dict)  # key (lower case) → value as typed


@dataclass(frozen=True, kw_only=True)
class AssayEnable:
    id: AssayId


@dataclass(frozen=True, kw_only=True)
class AssayDisable:
    id: AssayId


@dataclass(frozen=True, kw_only=True)
class AssayRun:
    id: AssayId
    page: int = 1


@dataclass(frozen=True, kw_only=True)
class AssayBaseline:
    id: AssayId
    page: int = 1


@dataclass(frozen=True, kw_only=True)
class AssayResults:
    id: AssayId
    page: int = 1


@dataclass(frozen=True, kw_only=True)
class Watch:
    workspace: Ref
    pipeline: Ref
    channel: ChannelRef | None = None  # None: the channel the command was typed in
    runbook: str | None = None  # an http(s) URL, checked and percent-encoded by the grammar
    owner: UserRef | None = None  # mentioned in each episode's opening message


@dataclass(frozen=True, kw_only=True)
class Unwatch:
    workspace: Ref
    pipeline: Ref


@dataclass(frozen=True, kw_only=True)
class Subscribe:
    id: AssayId
    channel: ChannelRef | None = None
    runbook: str | None = None  # as on Watch
    owner: UserRef | None = None


@dataclass(frozen=True, kw_only=True)
class Unsubscribe:
    id: AssayId


@dataclass(frozen=True, kw_only=True)
class WatchList:
    channel: ChannelRef | None = None  # None: the channel it was typed in (admins: all)
    page: int = 1


@dataclass(frozen=True, kw_only=True)
class DigestSet:
    channel: ChannelRef | None = None  # with `time`: set the channel's digest; neither: list
    time: str | None = None  # HH:MM as typed, checked by handlers/commands/digest.py


@dataclass(frozen=True, kw_only=True)
class DigestOff:
    channel: ChannelRef


@dataclass(frozen=True, kw_only=True)
class DigestNow:
    channel: ChannelRef | None = None  # None: the channel it was typed in


@dataclass(frozen=True, kw_only=True)
class DigestList:
    pass
