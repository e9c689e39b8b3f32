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

The classes live by area: arguments_wallaroo.py (Wallaroo's objects, and `Ref`),
arguments_alerts.py (assays, watches, digests, and `AssayId`), arguments_chatops.py (the bot's
own: help, approvals, access, audit). A handler imports its area's; what needs every command
(the table, the grammar, dispatch) takes them from here, with `Arguments`, their union,
and the two kinds of reference.
"""

from __future__ import annotations

from handlers.commands.arguments_alerts import (
    AssayBaseline,
    AssayCreate,
    AssayDisable,
    AssayEnable,
    AssayList,
    AssayResults,
    AssayRun,
    DigestList,
    DigestNow,
    DigestOff,
    DigestSet,
    Subscribe,
    Unsubscribe,
    Unwatch,
    Watch,
    WatchList,
)
from handlers.commands.arguments_alerts import AssayId as AssayId
from handlers.commands.arguments_chatops import (
    AccessGrant,
    AccessList,
    AccessRevoke,
    ApprovalList,
    Approve,
    AuditList,
    Features,
    Help,
    Reject,
)
from handlers.commands.arguments_wallaroo import (
    Deploy,
    Infer,
    Logs,
    ModelList,
    ModelShow,
    ModelUpload,
    PipelineCopy,
    PipelineCreate,
    PipelineList,
    Rollback,
    Status,
    Undeploy,
    Url,
    UserActivate,
    UserDeactivate,
    UserInvite,
    UserList,
    Versions,
    WorkspaceAddUser,
    WorkspaceCreate,
    WorkspaceList,
    WorkspaceRemoveUser,
    WorkspaceUsers,
)
from handlers.commands.arguments_wallaroo import Ref as Ref

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
