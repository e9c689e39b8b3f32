"""Which handler runs each command: a `match` on its arguments class (arguments.py).

A match rather than a table of handlers: in each case mypy knows the class, so it checks that
the handler takes exactly those arguments, and `assert_never` makes it an error to add a
command (a class in `Arguments`) without a case here. A table keyed by class could not say
either: its values would all have to share one loose type.
"""

from __future__ import annotations

from typing import assert_never

from handlers.commands import (
    access,
    approvals,
    assay_create,
    assays,
    audit,
    deployments,
    digest,
    help,
    inference,
    models,
    pipelines,
    users,
    versions,
    watches,
    workspaces,
)
from handlers.commands import arguments as a
from handlers.context import Answer, Context


async def run(ctx: Context, args: a.Arguments) -> Answer:
    match args:
        case a.Help():
            return await help.show(ctx, args)
        case a.Features():
            return await help.features(ctx, args)
        case a.WorkspaceList():
            return await workspaces.listing(ctx, args)
        case a.WorkspaceCreate():
            return await workspaces.create(ctx, args)
        case a.WorkspaceUsers():
            return await workspaces.users(ctx, args)
        case a.WorkspaceAddUser():
            return await workspaces.add_user(ctx, args)
        case a.WorkspaceRemoveUser():
            return await workspaces.remove_user(ctx, args)
        case a.UserList():
            return await users.listing(ctx, args)
        case a.UserInvite():
            return await users.invite(ctx, args)
        case a.UserActivate():
            return await users.activate(ctx, args)
        case a.UserDeactivate():
            return await users.deactivate(ctx, args)
        case a.ModelList():
            return await models.listing(ctx, args)
        case a.ModelShow():
            return await models.show(ctx, args)
        case a.ModelUpload():
            return await models.upload(ctx, args)
        case a.PipelineList():
            return await pipelines.listing(ctx, args)
        case a.PipelineCreate():
            return await pipelines.create(ctx, args)
        case a.PipelineCopy():
            return await pipelines.copy(ctx, args)
        case a.Deploy():
            return await deployments.deploy(ctx, args)
        case a.Undeploy():
            return await deployments.undeploy(ctx, args)
        case a.Status():
            return await deployments.status(ctx, args)
        case a.Url():
            return await deployments.url(ctx, args)
        case a.Versions():
            return await versions.listing(ctx, args)
        case a.Rollback():
            return await deployments.rollback(ctx, args)
        case a.Infer():
            return await inference.infer(ctx, args)
        case a.Logs():
            return await inference.logs(ctx, args)
        case a.AssayList():
            return await assays.listing(ctx, args)
        case a.AssayCreate():
            return await assay_create.create(ctx, args)
        case a.AssayEnable():
            return await assays.enable(ctx, args)
        case a.AssayDisable():
            return await assays.disable(ctx, args)
        case a.AssayRun():
            return await assays.run(ctx, args)
        case a.AssayBaseline():
            return await assays.baseline(ctx, args)
        case a.AssayResults():
            return await assays.results(ctx, args)
        case a.Watch():
            return await watches.watch(ctx, args)
        case a.Unwatch():
            return await watches.unwatch(ctx, args)
        case a.Subscribe():
            return await watches.subscribe(ctx, args)
        case a.Unsubscribe():
            return await watches.unsubscribe(ctx, args)
        case a.WatchList():
            return await watches.listing(ctx, args)
        case a.DigestSet():
            return await digest.set_or_list(ctx, args)
        case a.DigestOff():
            return await digest.turn_off(ctx, args)
        case a.DigestNow():
            return await digest.now(ctx, args)
        case a.DigestList():
            return await digest.listing(ctx, args)
        case a.ApprovalList():
            return await approvals.listing(ctx, args)
        case a.Approve():
            return await approvals.approve(ctx, args)
        case a.Reject():
            return await approvals.reject(ctx, args)
        case a.AccessList():
            return await access.listing(ctx, args)
        case a.AccessGrant():
            return await access.grant(ctx, args)
        case a.AccessRevoke():
            return await access.revoke(ctx, args)
        case a.AuditList():
            return await audit.listing(ctx, args)
        case _:
            assert_never(args)
