"""The arguments of the commands about Wallaroo's own objects: workspaces, users, models,
pipelines, their deployments and versions, and inference (arguments.py says why a class per
command). Names and emails come unescaped (as typed); whoever renders them must escape them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Ref = str | int  # a workspace, pipeline or model: a name, or (all digits) an id


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
