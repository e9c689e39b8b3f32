"""Each command's arguments as one frozen dataclass, which its handler receives.

Why a class per command rather than a dict of values: the handler's signature
(`async def create(ctx, args: WorkspaceCreate)`) then says what it gets, and mypy checks every
use (`args.workspace` is `str | int`, `args.reason` may be None). The command table (specs.py)
stays the one place for words, parameters, usage and help: each row names its class, the
grammar fills it from the row's parameters, and tests/test_grammar.py checks that every class's
fields are exactly its row's parameters (names and types, plus `page` where a command pages), so
the two cannot drift apart. dispatch.py matches on the class to run the handler, which mypy
checks covers every command.

Fields are keyword-only: the grammar fills them by name, and so do tests. Names and emails come
unescaped (as typed); whoever renders them must escape them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from handlers.render.mrkdwn import ChannelRef, UserRef
from storage.roles import Role

Ref = str | int  # a workspace, pipeline or model: a name, or (all digits) an id
# A v1 assay's number; a v2 assay's UUID or its first characters (lower case); or 6 to 8
# digits kept as typed, which may be either (the lookup tries both).
AssayId = int | str


@dataclass(frozen=True, kw_only=True)
class Help:
    area: str | None  # the area asked about (already one of AREAS), or None for all


@dataclass(frozen=True, kw_only=True)
class Features:
    page: int = 1


@dataclass(frozen=True, kw_only=True)
class WorkspaceList:
    page: int = 1


@dataclass(frozen=True, kw_only=True)
class WorkspaceCreate:
    name: str


@dataclass(frozen=True, kw_only=True)
class WorkspaceUsers:
    workspace: Ref
    page: int = 1


@dataclass(frozen=True, kw_only=True)
class WorkspaceAddUser:
    workspace: Ref
    email: str
    user_type: str | None = None  # owner or collaborator (the default)


@dataclass(frozen=True, kw_only=True)
class WorkspaceRemoveUser:
    workspace: Ref
    email: str


@dataclass(frozen=True, kw_only=True)
class UserList:
    page: int = 1


@dataclass(frozen=True, kw_only=True)
class UserInvite:
    email: str


@dataclass(frozen=True, kw_only=True)
class UserActivate:
    email: str


@dataclass(frozen=True, kw_only=True)
class UserDeactivate:
    email: str


@dataclass(frozen=True, kw_only=True)
class ModelList:
    workspace: Ref
    page: int = 1


@dataclass(frozen=True, kw_only=True)
class ModelShow:
    workspace: Ref
    model: Ref
    page: int = 1


@dataclass(frozen=True, kw_only=True)
class ModelUpload:
    workspace: Ref
    name: str
    file: str  # a Slack file's link or id as typed (a link's URL), or a local path
    framework: str | None = None  # onnx unless given


@dataclass(frozen=True, kw_only=True)
class PipelineList:
    workspace: Ref
    page: int = 1


@dataclass(frozen=True, kw_only=True)
class PipelineCreate:
    workspace: Ref
    name: str
    models: list[Ref] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class PipelineCopy:
    workspace: Ref
    source: Ref
    new_name: str


@dataclass(frozen=True, kw_only=True)
class Deploy:
    workspace: Ref
    pipeline: Ref
    reason: str | None = None  # as typed, quotes and all


@dataclass(frozen=True, kw_only=True)
class Undeploy:
    workspace: Ref
    pipeline: Ref
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class Status:
    workspace: Ref
    pipeline: Ref


@dataclass(frozen=True, kw_only=True)
class Url:
    workspace: Ref
    pipeline: Ref


@dataclass(frozen=True, kw_only=True)
class Versions:
    workspace: Ref
    pipeline: Ref
    page: int = 1


@dataclass(frozen=True, kw_only=True)
class Rollback:
    workspace: Ref
    pipeline: Ref
    version: str | None = None  # a number from `versions`, a UUID (prefix), or `previous`
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class Infer:
    workspace: Ref
    pipeline: Ref
    # The rest of the command, unescaped: JSON that `infer` reads. (The grammar still gives an
    # empty rest as None; `infer` answers that with what DATA looks like.)
    data: str


@dataclass(frozen=True, kw_only=True)
class Logs:
    workspace: Ref
    pipeline: Ref
    options: str | None = None  # `[N] [since=DURATION] [page N]` as typed, read by `logs`


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


Arguments = (
    Help
    | Features
    | WorkspaceList
    | WorkspaceCreate
    | WorkspaceUsers
    | WorkspaceAddUser
    | WorkspaceRemoveUser
    | UserList
    | UserInvite
    | UserActivate
    | UserDeactivate
    | ModelList
    | ModelShow
    | ModelUpload
    | PipelineList
    | PipelineCreate
    | PipelineCopy
    | Deploy
    | Undeploy
    | Status
    | Url
    | Versions
    | Rollback
    | Infer
    | Logs
    | AssayList
    | AssayCreate
    | AssayEnable
    | AssayDisable
    | AssayRun
    | AssayBaseline
    | AssayResults
    | Watch
    | Unwatch
    | Subscribe
    | Unsubscribe
    | WatchList
    | DigestSet
    | DigestOff
    | DigestNow
    | DigestList
    | ApprovalList
    | Approve
    | Reject
    | AccessList
    | AccessGrant
    | AccessRevoke
    | AuditList
)
