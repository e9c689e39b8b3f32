"""A channel's digest lists the pending requests that concern it (issue 15, item 4), on both
emulator API modes over Slack's HTTP interface: requests for the pipelines it watches or whose
assays it subscribes, and those posted in it; not another channel's. The scheduled digest and
`digest now` list the same."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.approvals import ApprovalRequest
from storage.digests import pending_requests_for
from storage.utc import utc_now
from tests.helpers.clock import MovableClock
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.slack_bot import Bot, running_bot

api_mode = both_api_modes

# Requests outlive the hour the clock moves to the scheduled digests.
FAST = {
    "chatops_poll_seconds": 0.2,
    "chatops_channel_pacing_seconds": 0.05,
    "chatops_approval_ttl_seconds": 86_400,
}
WATCHES_DEMO, WATCHES_OTHER, SUBSCRIBES_DEMO = "CALPHA", "CBETA", "CGAMMA"
ASKED_IN = "C1"  # where Bot.command types, and so where requests are posted (no approval channel)


@pytest.fixture
def demo(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    return start_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=0)


def say(bot: Bot, text: str) -> str:
    response, key = bot.command(text, "UADMIN")
    assert response.status_code == 200
    return json.dumps(bot.reply_to(key), ensure_ascii=False)


def approvals_of(digest: str) -> str:
    """The digest's "Pending approvals" section (the last one)."""
    return digest[digest.index("*Pending approvals*") :]


def posted_digest(bot: Bot, channel: str) -> str:
    (body,) = [
        b
        for b in bot.slack.api_calls("chat.postMessage")
        if b.get("channel") == channel and "Daily digest" in json.dumps(b)
    ]
    return json.dumps(body, ensure_ascii=False)


def test_each_channel_sees_only_the_pending_requests_that_concern_it(
    demo: Emulator, tmp_path: Path
) -> None:
    assert demo.demo is not None
    clock = MovableClock()
    with running_bot(demo, tmp_path, clock=clock, **FAST) as bot:
        assert "otherpipe" in say(bot, "pipeline create housepricedrift otherpipe housepricemodel")
        say(bot, f"watch housepricedrift housepricepipe <#{WATCHES_DEMO}|alpha>")
        say(bot, f"watch housepricedrift otherpipe <#{WATCHES_OTHER}|beta>")
        say(bot, f"subscribe assay {demo.demo['assay_id']} <#{SUBSCRIBES_DEMO}|gamma>")
        assert "request" in say(bot, "undeploy housepricedrift housepricepipe demo-request")
        assert "request" in say(bot, "deploy housepricedrift otherpipe other-request")

        def listed(digest: str) -> set[str]:
            section = approvals_of(digest)
            return {r for r in ("demo-request", "other-request") if r in section}

        at = f"{clock() + timedelta(minutes=59):%H:%M}"
        expected = {
            WATCHES_DEMO: {"demo-request"},  # watches its pipeline
            WATCHES_OTHER: {"other-request"},
            SUBSCRIBES_DEMO: {"demo-request"},  # subscribes its pipeline's assay
            ASKED_IN: {"demo-request", "other-request"},  # both were posted there
            "COTHER": set(),  # follows nothing, was asked nothing
        }
        for channel, requests in expected.items():
            shown = say(bot, f"digest now <#{channel}|c>")
            assert listed(shown) == requests, channel
            if not requests:
                assert "No request for this channel is waiting" in shown
            say(bot, f"digest <#{channel}|c> {at}")

        clock.advance(3600)  # the scheduled digests: the same requests as `digest now`
        bot.poll_once()
        for channel, requests in expected.items():
            assert listed(posted_digest(bot, channel)) == requests, channel


async def test_a_subscription_concerns_its_own_workspaces_pipeline_not_a_namesake(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Pipeline names are unique within a workspace only: a channel subscribing the assays of
    workspace 1's `housing` sees its requests, not those for workspace 2's `housing`; a
    subscription made before subscriptions kept the workspace (None) goes by the name."""
    now = utc_now()

    def request(workspace_id: int, reason: str) -> ApprovalRequest:
        return ApprovalRequest(
            action="undeploy", workspace_id=workspace_id, workspace_name=f"ws{workspace_id}",
            pipeline_id=10 + workspace_id, pipeline_name="housing", deploy_id="housing",
            requester_id="UOPS", reason=reason, channel="CASKED",
            expires_at=now + timedelta(hours=1),
        )  # fmt: skip

    async with sessions() as session:
        session.add_all([request(1, "ours"), request(2, "namesake")])
        await session.commit()
        for followed, expected in (
            ({(1, "housing")}, ["ours"]),
            ({(2, "housing")}, ["namesake"]),
            ({(None, "housing")}, ["ours", "namesake"]),  # an older subscription
        ):
            found = await pending_requests_for(session, ["CGAMMA"], [], followed, now)
            assert [r.reason for r in found] == expected, followed
