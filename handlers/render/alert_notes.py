"""The short messages about an episode and the bot's alerting: thread replies (escalation,
reminder, recovery, the owner for a line added to a message already posted) and notices (an
outage of Wallaroo, a channel given up). `alert_messages` renders the episode itself."""

from __future__ import annotations

from datetime import datetime

from handlers.render.alert_messages import details_of, is_assay, score_text
from handlers.render.alert_owners import owner_shown
from handlers.render.blocks import Reply, section
from handlers.render.mrkdwn import escape
from handlers.render.times import when
from storage.alerts import AlertEpisode, EpisodeKind


def thread_note(text: str) -> Reply:
    """A reply in an episode's thread (escalation, reminder, recovery); `text` is mrkdwn."""
    return Reply(text=text, blocks=[section(text)], ephemeral=False)


def owner_note(episode: AlertEpisode) -> Reply | None:
    """The owner mentioned in the thread, for an episode whose opening is only an edit (a
    line added to a group message already posted, which notifies nobody); None without one."""
    owner = details_of(episode).get("owner")
    if not owner:
        return None
    return thread_note(f":bust_in_silhouette: Owner: {owner_shown(owner, mention=True)}")


def escalation_note(episode: AlertEpisode) -> Reply:
    return thread_note(
        f":rotating_light: Escalated to *Alert*: score {score_text(episode.latest_score)} "
        f"crossed the alert threshold."
    )


def reminder_note(episode: AlertEpisode) -> Reply:
    if episode.kind == EpisodeKind.NO_DATA:
        return thread_note(
            f":bell: Still no data (since {when(episode.opened_at)}). "
            "Acknowledge to stop these reminders."
        )
    if episode.kind == EpisodeKind.DEPLOYMENT:
        return thread_note(
            f":bell: Still {escape(episode.severity)} ({episode.count} poll(s)). "
            "Acknowledge to stop these reminders."
        )
    return thread_note(
        f":bell: Still open: {episode.count} breaching result(s), worst "
        f"{score_text(episode.worst_score)}. Acknowledge to stop these reminders."
    )


def recovery_note(episode: AlertEpisode) -> Reply:
    if episode.kind == EpisodeKind.NO_DATA:
        what = "results" if is_assay(episode) else "a status"
        return thread_note(f":white_check_mark: Wallaroo answers {what} again; no more missing.")
    if episode.kind == EpisodeKind.ASSAY:
        return thread_note(
            f":white_check_mark: Back to *Ok* (score {score_text(episode.latest_score)}) after "
            f"{episode.count} breaching result(s); worst was {score_text(episode.worst_score)}."
        )
    return thread_note(f":white_check_mark: *{escape(episode.title)}* is Running again.")


def outage_notice(down: bool, since: datetime, error: str = "") -> Reply:
    if down:
        text = (
            f":red_circle: Wallaroo is unreachable since {when(since)} "
            f"({escape(error)}). Polling backs off; results are caught up when it is back."
        )
    else:
        text = f":large_green_circle: Wallaroo is reachable again (down since {when(since)})."
    return thread_note(text)


def undeliverable_notice(channel: str, error: str) -> Reply:
    """To the admin channel, once, when Slack refuses a channel's alerts for good."""
    return Reply(
        text=f":no_entry: Alerts for {escape(channel)} cannot be delivered: {escape(error)}. "
        "They are not retried. Fix the bot's access to the channel, then "
        "`unwatch`/`unsubscribe` and set the alert up again."
    )
