"""The `/wallaroo` command table: every command's words, parameters, usage line and help.

One table (`SPECS`) drives parsing (grammar.py), usage lines, help and suggestions, so they
cannot drift apart. Each row also names the class its arguments arrive in (arguments.py); a
test checks that the class's fields are the row's parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from handlers.commands import arguments as a
from handlers.commands.arguments import Arguments

ROLES = ("viewer", "operator", "approver", "admin")
WORKSPACE_ROLES = ("owner", "collaborator")
ASSAY_OPTIONS: tuple[str, ...] = ("iopath", "baseline_start", "baseline_end", "width", "warning")
ASSAY_OPTIONS += ("alert", "bins", "name", "metric")
# `assay create`'s options in full (with defaults) are in handlers/commands/assay_options.py.
ASSAY_CREATE_ABOUT = (
    "create a drift assay; other options (default): iopath, width (24 hours), alert (0.1), "
    "warning (none), bins (5), metric (PSI), name; in Slack, with no options, a form"
)
AREAS: tuple[str, ...] = ("help", "workspaces", "users", "models", "pipelines", "deployments")
AREAS += ("inference",)
AREAS += ("assays", "watches", "approvals", "access", "audit", "features")


@dataclass(frozen=True)
class Param:
    key: str  # its field in the command's arguments class
    kind: str  # which reader turns a token into a value
    shown: str  # how usage lines spell it
    noun: str  # how error messages name it


PARAMS = {
    "WS": Param("workspace", "ref", "WS", "a workspace"),
    "PIPELINE": Param("pipeline", "ref", "PIPELINE", "a pipeline"),
    "MODEL": Param("model", "ref", "MODEL", "a model"),
    "SOURCE": Param("source", "ref", "SOURCE", "the pipeline to copy"),
    "NAME": Param("name", "name", "NAME", "a name"),
    "NEW_NAME": Param("new_name", "name", "NEW_NAME", "a new name"),
    "FILE": Param("file", "file", "FILE", "a Slack file (its link or id)"),
    "FRAMEWORK": Param("framework", "framework", "framework=onnx", "a framework"),
    "EMAIL": Param("email", "email", "EMAIL", "an email"),
    "ID": Param("id", "assay_id", "ID", "an assay id"),
    "REQUEST_ID": Param("request_id", "int", "REQUEST_ID", "a request id"),
    "N": Param("n", "int", "N", "a count"),
    "ROLE": Param("role", "role", "ROLE", "a role"),
    "WS_ROLE": Param("user_type", "workspace_role", "owner|collaborator", "a workspace role"),
    "USER": Param("user", "user", "@user", "a user"),
    "CHANNEL": Param("channel", "channel", "#channel", "a channel"),
    "TIME": Param("time", "name", "HH:MM", "a time (HH:MM)"),
    # Given as key=value, in any order after the others (grammar.py takes them out first).
    "RUNBOOK": Param("runbook", "url", "runbook=URL", "a runbook link (an http or https URL)"),
    "OWNER": Param("owner", "user", "owner=@user", "an owner (a user)"),
    # These take every remaining token.
    "TOPIC": Param("area", "topic", "area", "a topic"),
    "MODELS": Param("models", "refs", "MODEL ...", "models"),
    "REASON": Param("reason", "rest", "reason...", "a reason"),
    "VERSION": Param("version", "name", "VERSION", "a version (its number or UUID)"),
    "DATA": Param("data", "rest", "DATA", "data (pandas records JSON)"),
    # `logs`' own options, read by handlers/commands/inference_data.py; optional, so usage
    # lines bracket it whole: `[N] [since=DURATION] [page N]`.
    "LOG_OPTIONS": Param("options", "rest", "N] [since=DURATION] [page N", "options"),
    # Only `assay create` takes options; its two required ones are spelled out.
    "OPTIONS": Param(
        "options", "options", "baseline_start=DATE baseline_end=DATE [key=value ...]", "options"
    ),
}
TAKES_REST = {"topic", "refs", "rest", "options"}
KEYED = {"runbook", "owner"}  # the keys of the key=value parameters
LISTINGS = {"list", "users", "show", "run", "baseline", "results"}  # actions that answer lists
LISTINGS |= {"versions"}


@dataclass(frozen=True)
class Spec:
    args: Callable[..., Arguments]  # the arguments class, filled by the grammar by field name
    verb: str
    area: str
    action: str
    signature: str  # PARAMS keys; a trailing "?" marks an optional one
    about: str

    @property
    def params(self) -> list[tuple[Param, bool]]:
        return [(PARAMS[word.rstrip("?")], word.endswith("?")) for word in self.signature.split()]

    @property
    def pageable(self) -> bool:
        """Whether a trailing `page N` (which long list replies point to) is accepted."""
        rest = any(param.kind in TAKES_REST for param, _ in self.params)
        return self.action in LISTINGS and not rest

    @property
    def usage(self) -> str:
        shown = [f"[{p.shown}]" if optional else p.shown for p, optional in self.params]
        return " ".join(["/wallaroo", self.verb, *shown])

    @property
    def paged_usage(self) -> str:
        """The usage line with `[page N]` where the command pages, as help and errors show it."""
        # `audit [N]` pages too, but a second N would read as the same number.
        paged = self.pageable and all(param.shown != "N" for param, _ in self.params)
        return f"{self.usage} [page N]" if paged else self.usage

    @property
    def needs(self) -> str:
        nouns = [p.noun for p, optional in self.params if not optional]
        return nouns[0] if len(nouns) == 1 else ", ".join(nouns[:-1]) + " and " + nouns[-1]


S = Spec
# One command a row: its arguments class, words, area, action, parameters; what it does.
# fmt: off
SPECS = (
    S(a.Help, "help", "help", "show", "TOPIC?",
      "what each command does, for all areas or one"),
    S(a.WorkspaceList, "workspaces", "workspaces", "list", "",
      "list workspaces"),
    S(a.WorkspaceCreate, "workspace create", "workspaces", "create", "NAME",
      "create a workspace"),
    S(a.WorkspaceUsers, "workspace users", "workspaces", "users", "WS",
      "list a workspace's members and their roles"),
    S(a.WorkspaceAddUser, "workspace add-user", "workspaces", "add-user", "WS EMAIL WS_ROLE?",
      "add a member"),
    S(a.WorkspaceRemoveUser, "workspace remove-user", "workspaces", "remove-user", "WS EMAIL",
      "remove a member"),
    S(a.UserList, "users", "users", "list", "",
      "list Wallaroo users"),
    S(a.UserInvite, "user invite", "users", "invite", "EMAIL",
      "invite a user by email"),
    S(a.UserActivate, "user activate", "users", "activate", "EMAIL",
      "let a deactivated user sign in again"),
    S(a.UserDeactivate, "user deactivate", "users", "deactivate", "EMAIL",
      "stop a user from signing in"),
    S(a.ModelList, "models", "models", "list", "WS",
      "list a workspace's models"),
    S(a.ModelShow, "model", "models", "show", "WS MODEL",
      "show a model and its versions"),
    S(a.ModelUpload, "model upload", "models", "upload", "WS NAME FILE FRAMEWORK?",
      "upload a model file shared in Slack (the console: a local path), streamed"),
    S(a.PipelineList, "pipelines", "pipelines", "list", "WS",
      "list a workspace's pipelines"),
    S(a.PipelineCreate, "pipeline create", "pipelines", "create", "WS NAME MODELS?",
      "create a pipeline"),
    S(a.PipelineCopy, "pipeline copy", "pipelines", "copy", "WS SOURCE NEW_NAME",
      "copy a pipeline"),
    S(a.Deploy, "deploy", "deployments", "deploy", "WS PIPELINE REASON?",
      "deploy (after approval); in Slack, `deploy` alone opens a form"),
    S(a.Undeploy, "undeploy", "deployments", "undeploy", "WS PIPELINE REASON?",
      "undeploy (after approval)"),
    S(a.Status, "status", "deployments", "status", "WS PIPELINE",
      "show a deployment's status"),
    S(a.Url, "url", "deployments", "url", "WS PIPELINE",
      "show a pipeline's inference URL"),
    S(a.Versions, "versions", "pipelines", "versions", "WS PIPELINE",
      "a pipeline's versions, newest first, with their models; marks the live one. "
      "Numbered by age: 1 is the first made, the newest has the highest"),
    S(a.Rollback, "rollback", "deployments", "rollback", "WS PIPELINE VERSION? REASON?",
      "deploy an earlier version (after approval). VERSION: its number in `versions` or "
      "6+ characters of its UUID; default (or `previous`): the one before the live one; "
      "a first word that is no version starts the reason"),
    S(a.Infer, "infer", "inference", "infer", "WS PIPELINE DATA",
      "run a test inference through the live deployment (DATA: pandas records JSON)"),
    S(a.Logs, "logs", "inference", "logs", "WS PIPELINE LOG_OPTIONS?",
      "the newest inference records (10 unless N given, at most 100), newest first"),
    S(a.AssayList, "assays", "assays", "list", "WS PIPELINE",
      "list a pipeline's assays and their ids"),
    S(a.AssayCreate, "assay create", "assays", "create", "WS PIPELINE OPTIONS",
      ASSAY_CREATE_ABOUT),
    S(a.AssayEnable, "assay enable", "assays", "enable", "ID",
      "turn an assay on"),
    S(a.AssayDisable, "assay disable", "assays", "disable", "ID",
      "turn an assay off"),
    S(a.AssayRun, "assay run", "assays", "run", "ID",
      "run an assay now: each window's score, newest first"),
    S(a.AssayBaseline, "assay baseline", "assays", "baseline", "ID",
      "show what each window is compared with"),
    S(a.AssayResults, "assay results", "assays", "results", "ID",
      "stored results, newest first, 10 a page"),
    S(a.Watch, "watch", "watches", "watch", "WS PIPELINE CHANNEL? RUNBOOK? OWNER?",
      "post a deployment's status changes; its alerts link the runbook and mention the owner"),
    S(a.Unwatch, "unwatch", "watches", "unwatch", "WS PIPELINE",
      "stop posting a deployment's status changes"),
    S(a.Subscribe, "subscribe assay", "watches", "subscribe", "ID CHANNEL? RUNBOOK? OWNER?",
      "post an assay's drift alerts; they link the runbook and mention the owner"),
    S(a.Unsubscribe, "unsubscribe assay", "watches", "unsubscribe", "ID",
      "stop posting an assay's alerts"),
    S(a.WatchList, "watches", "watches", "list", "CHANNEL?",
      "a channel's watches and assay subscriptions, who set them up and when"),
    S(a.DigestSet, "digest", "watches", "digest", "CHANNEL? TIME?",
      "a daily digest of the channel at HH:MM (CHATOPS_TIMEZONE): its deployments, assays "
      "(latest, worst, sparkline), episodes and pending approvals; alone, lists the digests"),
    S(a.DigestOff, "digest off", "watches", "digest-off", "CHANNEL",
      "stop a channel's daily digest"),
    S(a.DigestNow, "digest now", "watches", "digest-now", "CHANNEL?",
      "show a channel's digest now, as a reply (this channel unless named)"),
    S(a.DigestList, "digests", "watches", "digests", "",
      "list the daily digests: channel, time, who set them, when the next goes out"),
    S(a.ApprovalList, "approvals", "approvals", "list", "",
      "list the requests waiting for a decision"),
    S(a.Approve, "approve", "approvals", "approve", "REQUEST_ID",
      "approve someone else's request"),
    S(a.Reject, "reject", "approvals", "reject", "REQUEST_ID REASON?",
      "reject a request, saying why"),
    S(a.AccessList, "access list", "access", "list", "",
      "list who holds which of the bot's roles"),
    S(a.AccessGrant, "access grant", "access", "grant", "USER ROLE",
      "give someone a bot role"),
    S(a.AccessRevoke, "access revoke", "access", "revoke", "USER ROLE",
      "take a bot role away"),
    S(a.AuditList, "audit", "audit", "list", "N?",
      "show the bot's last N audit entries (20 unless N given)"),
    S(a.Features, "features", "features", "list", "",
      "list the Wallaroo instance's enabled features"),
)
# fmt: on
BY_VERB = {spec.verb: spec for spec in SPECS}
# First words that only start two-word commands, e.g. `workspace` → create, users, ...
GROUPS: dict[str, list[str]] = {}
for _spec in SPECS:
    if " " in _spec.verb:
        _first, _rest = _spec.verb.split(" ", 1)
        GROUPS.setdefault(_first, []).append(_rest)
ONE_WORD = [spec.verb for spec in SPECS if " " not in spec.verb]
# `help X` accepts an area, any command's first word, or a whole command.
TOPICS = {area: area for area in AREAS}
TOPICS |= {spec.verb.split()[0]: spec.area for spec in SPECS}
TOPICS |= {spec.verb: spec.area for spec in SPECS}

USAGE: dict[str, list[str]] = {area: [s.usage for s in SPECS if s.area == area] for area in AREAS}


def help_lines(area: str | None, *, about: bool = False) -> list[str]:
    """Plain usage lines for one area (or any command word), or for all when None; with `about`,
    each ends in what the command does. An unknown area gives no lines."""
    topic = None if area is None else TOPICS.get(area.strip().lower())
    if area is not None and topic is None:
        return []
    specs = [spec for spec in SPECS if topic is None or spec.area == topic]
    return [f"{spec.usage} — {spec.about}" if about else spec.usage for spec in specs]
