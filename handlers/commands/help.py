"""help [area] and features: what each command does, grouped by area, from the command table."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from handlers.commands.arguments_chatops import Features, Help
from handlers.commands.assay_options import options_help
from handlers.commands.permissions import required_role
from handlers.commands.specs import AREAS, SPECS, TOPICS, Spec
from handlers.context import Answer, Context
from handlers.render.blocks import Reply, context, header, list_reply, section
from handlers.render.mrkdwn import escape
from storage.roles import Role

# Where an assay ID appears (assays, subscriptions), help says what one looks like.
ASSAY_ID_NOTE = (
    "_ID_ is a v1 assay's number (`3`) or a v2 assay's UUID; its first 6 or more characters "
    "will do (`3fa85f`). Replies show a v2 id's first 8."
)
PAGE_NOTE = (
    "Long answers come a page at a time and end with the command for the next: "
    "add `page N`, e.g. `/wallaroo assay results 1 page 2`."
)
ROLE_NOTE = (
    "Anyone may read; a command marked _operator_, _approver_ or _admin_ needs that role "
    "or a higher one (`/wallaroo access list` shows who holds which)."
)

# Each area's title, and what help on that area says first.
AREA_ABOUT: dict[str, tuple[str, str]] = {
    "help": ("Help", "What the commands do."),
    "workspaces": ("Workspaces", "Wallaroo's workspaces and their members."),
    "users": ("Wallaroo users", "The people with a Wallaroo login (the bot's roles: `access`)."),
    "models": ("Models", "The models uploaded to a workspace, and their versions."),
    "pipelines": ("Pipelines", "A pipeline runs models as its steps; deploy one to serve it."),
    "deployments": (
        "Deployments",
        "`deploy` and `undeploy` only ask: someone other than you with the approver or admin "
        "role approves (a button, or `/wallaroo approve N`), then the bot carries it out and "
        "reports how it went in the request's thread.",
    ),
    "inference": (
        "Inference",
        "A test inference through a pipeline's live deployment (DATA as pandas records JSON, "
        'or the tutorial\'s `{"tensor": [[...]]}`), and the newest records of its log.',
    ),
    "assays": (
        "Drift assays",
        "An assay compares a pipeline's recent inputs or outputs with a baseline, window by "
        "window, and scores how far they moved.",
    ),
    "watches": (
        "Watches and alerts",
        "What the bot posts on its own, in this channel unless you name one: a deployment's "
        "status changes, an assay's drift alerts (with a chart), and a daily digest of both at "
        "the time you set (in CHATOPS_TIMEZONE).",
    ),
    "approvals": (
        "Approvals",
        "Deploy and undeploy requests wait here until someone other than the requester "
        "approves or rejects them, or they expire.",
    ),
    "access": (
        "Access",
        "The bot's roles, each including the ones before it: viewer (read), operator (change "
        "things, ask to deploy), approver (decide requests), admin (roles, users, audit).",
    ),
    "audit": ("Audit log", "Every command, click and refusal, in a tamper-evident chain."),
    "features": ("Wallaroo instance", "What the Wallaroo instance has turned on."),
}


async def show(ctx: Context, args: Help) -> Answer:
    topic = TOPICS.get(args.area.strip().lower()) if args.area else None
    if topic is None:
        return Answer(all_areas())
    return Answer(one_area(topic))


async def features(ctx: Context, args: Features) -> Answer:
    found = await ctx.services.wallaroo.list_features()
    rows = [f"*{escape(k)}*: {escape(v)}" for k, v in sorted(found.features.items())]
    rows.append(f"authentication: {'on' if found.is_auth_enabled else 'off'}")
    return Answer(list_reply(f"Features of {found.name}", rows, empty="No features."))


def all_areas() -> Reply:
    """Every command with what it does, a section per area (about 15 blocks of Slack's 50)."""
    areas = ", ".join(area for area in AREAS if area != "help")
    blocks: list[Block] = [
        header("/wallaroo commands"),
        context(f"One area with more detail: `/wallaroo help AREA`, AREA one of {areas}."),
    ]
    for area in AREAS:
        title = AREA_ABOUT[area][0]
        lines = [command_line(spec) for spec in SPECS if spec.area == area]
        blocks.append(section("\n".join([f"*{escape(title)}*", *lines])))
    blocks += [context(ROLE_NOTE), context(PAGE_NOTE), context(ASSAY_ID_NOTE)]
    return Reply(text=f"/wallaroo commands ({len(SPECS)})", blocks=blocks)


def one_area(area: str) -> Reply:
    title, about = AREA_ABOUT[area]
    specs = [spec for spec in SPECS if spec.area == area]
    blocks: list[Block] = [
        header(f"/wallaroo {area}: {title}"),
        section(about),
        section("\n".join(command_line(spec) for spec in specs)),
    ]
    if area == "assays":
        blocks.append(section(f"`assay create` options. {options_help()}"))
    if area in ("assays", "watches"):
        blocks.append(context(ASSAY_ID_NOTE))
    if any(spec.pageable for spec in specs):
        blocks.append(context(PAGE_NOTE))
    if any(required_role(spec.area, spec.action) is not Role.VIEWER for spec in specs):
        blocks.append(context(ROLE_NOTE))
    return Reply(text=f"/wallaroo {area}: {len(specs)} commands", blocks=blocks)


def command_line(spec: Spec) -> str:
    """`usage [page N]` — what it does, and the role it needs when reading is not enough."""
    role = required_role(spec.area, spec.action)
    needs = f" _({role.value})_" if role is not Role.VIEWER else ""
    return f"`{escape(spec.paged_usage)}` — {escape(spec.about)}{needs}"
