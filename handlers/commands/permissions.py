"""Which role each command needs. Reading is for everyone; changing things is not."""

from __future__ import annotations

from storage.roles import Role

# (area, action) -> the least role allowed. Anything not listed is a read: viewer.
REQUIRED: dict[tuple[str, str], Role] = {
    ("workspaces", "create"): Role.OPERATOR,
    ("workspaces", "add-user"): Role.OPERATOR,
    ("workspaces", "remove-user"): Role.OPERATOR,
    ("users", "invite"): Role.ADMIN,
    ("users", "activate"): Role.ADMIN,
    ("users", "deactivate"): Role.ADMIN,
    ("models", "upload"): Role.OPERATOR,
    ("pipelines", "create"): Role.OPERATOR,
    ("pipelines", "copy"): Role.OPERATOR,
    ("deployments", "deploy"): Role.OPERATOR,
    ("deployments", "undeploy"): Role.OPERATOR,
    ("deployments", "rollback"): Role.OPERATOR,
    ("inference", "infer"): Role.OPERATOR,
    ("assays", "create"): Role.OPERATOR,
    ("assays", "enable"): Role.OPERATOR,
    ("assays", "disable"): Role.OPERATOR,
    ("watches", "watch"): Role.OPERATOR,
    ("watches", "unwatch"): Role.OPERATOR,
    ("watches", "subscribe"): Role.OPERATOR,
    ("watches", "unsubscribe"): Role.OPERATOR,
    ("watches", "digest"): Role.OPERATOR,
    ("watches", "digest-off"): Role.OPERATOR,
    ("approvals", "approve"): Role.APPROVER,
    ("approvals", "reject"): Role.APPROVER,
    ("access", "list"): Role.ADMIN,
    ("access", "grant"): Role.ADMIN,
    ("access", "revoke"): Role.ADMIN,
    ("audit", "list"): Role.ADMIN,
    ("audit", "show"): Role.ADMIN,
}


def required_role(area: str, action: str) -> Role:
    return REQUIRED.get((area, action), Role.VIEWER)
