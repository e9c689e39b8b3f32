"""The daily digest of one channel as a message: its watched deployments, its subscribed
assays (latest and worst score, and a sparkline), the episodes of the last 24 h and the
requests waiting for a decision that concern it (not every channel's: those of the pipelines
it follows, posted in it, or asked from its alerts). handlers/alerting/digest.py gathers what
it shows.

The sparkline is text (`▁▂▃▅▇`), not a chart: it sits on the assay's own line, where the
eye compares one assay with the next; it needs no file upload (a PNG lands as a message of its
own, after the text, and needs `files:write`); it shows in notifications, in the console and
to screen readers as it does in Slack; and it costs no matplotlib thread per digest. The
bars are scaled to the assay's alert threshold (or its highest score, if higher), so a full
bar means "at the threshold" and a calm assay reads low, not stretched to fill the height.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from bot.wallaroo import DriftResult
from handlers.render.approval_messages import row_of
from handlers.render.blocks import Reply, context, header, sections, status_emoji
from handlers.render.mrkdwn import channel_mention, code, escape, named
from handlers.render.times import when
from storage.alerts import AlertEpisode, EpisodeKind, EpisodeState
from storage.approvals import ApprovalRequest

BARS = "▁▂▃▄▅▆▇█"
SPARK_WINDOWS = 14  # how many of an assay's newest results its sparkline shows
_KIND_SHOWN = {
    EpisodeKind.ASSAY: "drift",
    EpisodeKind.DEPLOYMENT: "deployment",
    EpisodeKind.NO_DATA: "no data",
}


@dataclass(frozen=True)
class DeploymentLine:
    pipeline_name: str
    workspace_name: str
    status: str | None  # what the poller last saw; None: not polled yet
    since: datetime | None
    changed: bool  # its status changed in the last 24 h (not merely first seen then)
    episodes: int  # its episodes opened in the last 24 h


@dataclass(frozen=True)
class AssayLine:
    assay_id: str
    name: str
    pipeline_name: str
    recent: list[DriftResult] = field(default_factory=list)  # oldest first, at most SPARK_WINDOWS
    worst: DriftResult | None = None  # the highest score of the last 24 h
    error: str | None = None  # why its results could not be read


@dataclass(frozen=True)
class DigestContent:
    channel: str  # an id, or a #name (the console)
    day: date  # the local date it is for
    now: datetime
    since: datetime  # 24 h before `now`
    timezone: ZoneInfo  # CHATOPS_TIMEZONE
    deployments: list[DeploymentLine]
    assays: list[AssayLine]
    episodes: list[AlertEpisode]
    approvals: list[ApprovalRequest]  # pending, and concerning this channel


def shown_channel(channel: str) -> str:
    """A channel as mrkdwn: a mention for an id, the escaped #name otherwise."""
    return escape(channel) if channel.startswith("#") else channel_mention(channel)


def sparkline(scores: list[float], ceiling: float | None = None) -> str:
    """One bar per score, scaled from 0 to `ceiling` (or the highest score, if higher)."""
    top = max([*scores, ceiling or 0.0])
    if top <= 0:
        return BARS[0] * len(scores)
    steps = len(BARS) - 1
    return "".join(BARS[round(min(max(s, 0.0), top) / top * steps)] for s in scores)


def render_digest(content: DigestContent) -> Reply:
    where = shown_channel(content.channel)
    blocks: list[Block] = [
        header(f"Daily digest · {content.day.isoformat()}"),
        context(
            f"{where} · the 24 h to {when(content.now)} "
            f"({content.now.astimezone(content.timezone):%H:%M} {escape(content.timezone.key)})"
        ),
    ]
    parts = [
        ("Deployments", [_deployment(d) for d in content.deployments],
         "No deployment is watched here."),
        ("Assays", [_assay(a) for a in content.assays], "No assay is subscribed here."),
        ("Episodes opened or closed", [_episode(e) for e in _shown_episodes(content)],
         "None in the last 24 h."),
        ("Pending approvals", [row_of(r, content.now) for r in content.approvals],
         "No request for this channel is waiting."),
    ]  # fmt: skip
    for title, lines, empty in parts:
        blocks += sections("\n".join([f"*{title}*", *(lines or [f"_{empty}_"])]))
    counts = (
        f"{len(content.deployments)} deployment(s), {len(content.assays)} assay(s), "
        f"{len(_shown_episodes(content))} episode(s), {len(content.approvals)} pending approval(s)"
    )
    return Reply(
        text=f"Daily digest for {content.channel}, {content.day.isoformat()}: {counts}",
        blocks=blocks,
        ephemeral=False,
    )


def _deployment(line: DeploymentLine) -> str:
    where = f"{named(line.pipeline_name)} (workspace {escape(line.workspace_name)})"
    if line.status is None:
        return f":grey_question: {where}: not polled yet"
    text = f"{status_emoji(line.status)} {where}: {escape(line.status)}"
    if line.since is not None:
        changed = " · changed in the last 24 h" if line.changed else ""
        text += f" since {when(line.since)}{changed}"
    if line.episodes:
        text += f" · {line.episodes} alert(s)"
    return text


def _assay(line: AssayLine) -> str:
    where = f"{named(line.name or line.assay_id)} ({code(line.assay_id)}"
    where += f", pipeline {escape(line.pipeline_name)})" if line.pipeline_name else ")"
    if line.error is not None:
        return f":grey_question: {where}: results could not be read ({escape(line.error)})"
    if not line.recent:
        return f":grey_question: {where}: no results yet"
    latest = line.recent[-1]
    text = f"{status_emoji(latest.status)} {where}: latest {_score(latest)}"
    text += f" · worst in 24 h {_score(line.worst)}" if line.worst else " · none in 24 h"
    ceiling = latest.alert_threshold
    spark = sparkline([r.score for r in line.recent], ceiling)
    return text + f" · {code(spark)} last {len(line.recent)} windows"


def _score(result: DriftResult) -> str:
    return f"{result.score:.4f} ({escape(result.status)}, {when(result.window_start)})"


def _shown_episodes(content: DigestContent) -> list[AlertEpisode]:
    # A storm's group episode repeats its members, which are listed themselves.
    return [e for e in content.episodes if e.kind != EpisodeKind.GROUP]


def _episode(episode: AlertEpisode) -> str:
    kind = _KIND_SHOWN.get(EpisodeKind(episode.kind), episode.kind)
    text = f"{named(episode.title)} ({kind}, {escape(episode.severity)})"
    text += f": opened {when(episode.opened_at)}"
    if episode.state == EpisodeState.CLOSED and episode.closed_at is not None:
        return text + f", closed {when(episode.closed_at)}"
    return text + ", still open"
