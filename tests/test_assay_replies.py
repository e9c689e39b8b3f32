"""Assay replies as a new user meets them (issue 16), through the router against the drift demo
over real HTTP, for both API generations: results and runs paged newest first with the whole
command for the next page, one wording for an unknown assay, `assay create` errors that name the
option, "already" for a repeated enable/disable, and alerts counting every result after
`subscribe` however soon the clock moves."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.chat.console import ConsoleChat
from bot.services import open_services
from bot.wallaroo import WallarooBadRequest
from emulator.seed import DAY_MS
from handlers.alerting.assays import check_assay, poll_state
from handlers.commands.assay_options import refused
from handlers.context import Services
from handlers.render.alert_messages import render_episode
from handlers.render.blocks import render_text
from storage.alerts import NO_RESULT_YET, get_cursor, open_episodes
from storage.watches import AssaySubscription, add_subscription, list_subscriptions
from tests.helpers.commands import say
from tests.helpers.emulators import Emulator, both_api_modes

api_mode = both_api_modes

MOMENT = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")  # handlers/render/times.py's one format
CREATE = "assay create housepricedrift housepricepipe"
DATES = "baseline_start=2026-11-01 baseline_end=2026-11-02"


@pytest.fixture
def drift(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    """A drift demo of its own, for a test that moves its clock or changes its assays."""
    return start_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=0)


@pytest.fixture(scope="module")
def shared_drift(start_module_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    """One drift demo for the tests that only read it."""
    return start_module_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=0)


@pytest.fixture
def demo(request: pytest.FixtureRequest, api_mode: str) -> Emulator:
    """The test's own `drift` if it asks for one, else the shared one (either in `api_mode`)."""
    return request.getfixturevalue("drift" if "drift" in request.fixturenames else "shared_drift")


@pytest.fixture
async def services(demo: Emulator, tmp_path: Path) -> AsyncIterator[Services]:
    settings = demo.bot_settings(tmp_path)
    async with open_services(settings, chat=ConsoleChat(io.StringIO())) as opened:
        yield opened


def moments(reply: str) -> list[datetime]:
    return [
        datetime.strptime(m, "%Y-%m-%d %H:%M UTC").replace(tzinfo=UTC)
        for m in MOMENT.findall(reply)
    ]


async def test_results_page_newest_first_and_name_the_next_page(services: Services) -> None:
    # The demo's assay has 29 stored results: 3 pages of 10.
    first = await say(services, "assay results 1")
    assert "Page 1 of 3" in first and "next: `/wallaroo assay results 1 page 2`" in first
    second = await say(services, "assay results 1 page 2")
    assert "Page 2 of 3" in second and "`/wallaroo assay results 1 page 3`" in second
    last = await say(services, "assay results 1 page 3")
    assert "Page 3 of 3" in last and "next:" not in last
    pages = [moments(first), moments(second), moments(last)]
    assert [len(p) for p in pages] == [10, 10, 9]
    shown = [m for page in pages for m in page]
    assert shown == sorted(shown, reverse=True) and len(set(shown)) == 29  # newest first, all
    beyond = await say(services, "assay results 1 page 4")
    assert "There is no page 4: there are 3 pages of results (29 in all)" in beyond
    assert "`/wallaroo assay results 1 page 3`" in beyond


async def test_a_run_pages_the_same_way(services: Services) -> None:
    first = await say(services, "assay run 1")
    assert "29 window(s)" in first and "next: `/wallaroo assay run 1 page 2`" in first
    assert "use" not in first.split("Page 1 of 2")[-1]  # the note is the command, not "use …"
    second = await say(services, "assay run 1 page 2")
    assert "Page 2 of 2" in second and len(moments(second)) == 9
    assert moments(first)[0] > moments(second)[0]
    assert "there are 2 pages of windows" in await say(services, "assay run 1 page 3")


UNKNOWN = ["assay results", "assay run", "assay baseline", "assay enable", "assay disable"]
UNKNOWN += ["subscribe assay", "unsubscribe assay"]


@pytest.mark.parametrize("command", UNKNOWN)
async def test_an_unknown_assay_has_one_wording_everywhere(
    services: Services, api_mode: str, command: str
) -> None:
    refs = ["99", "4242"] + (["abcdef12"] if api_mode == "current" else [])  # v2: a UUID prefix
    for ref in refs:
        channel = " #alerts" if command == "subscribe assay" else ""
        reply = await say(services, f"{command} {ref}{channel}")
        assert f"No assay has id {ref}." in reply, reply
        assert "`/wallaroo assays WS PIPELINE` lists them" in reply
        assert "assays/" not in reply and "found nothing" not in reply


CREATE_ERRORS = [
    ("alert=abc", "alert must be a number, not `abc`", "`alert=0.1`"),
    ("warning=high", "warning must be a number", "`warning=0.05`"),
    ("bins=0", "bins must be a whole number above 0", "`bins=5`"),
    ("bins=2.5", "bins must be a whole number above 0", "`bins=5`"),
    ("metric=foo", "metric must be one of PSI, MaxDiff, SumDiff", "`metric=PSI`"),
    ("width=soon", "width must be a number of minutes, hours, days or weeks", "24 hours"),
    ("iopath=nowhere", "iopath must name the field scored", '`iopath="output 0 0"`'),
]


@pytest.mark.parametrize(("option", "problem", "example"), CREATE_ERRORS)
async def test_a_bad_create_option_is_named_with_what_it_takes(
    services: Services, option: str, problem: str, example: str
) -> None:
    reply = await say(services, f"{CREATE} {DATES} {option}")
    assert problem in reply and example in reply, reply
    assert "could not convert" not in reply and "Wallaroo refused" not in reply


@pytest.mark.parametrize("option", ["baseline_start=abc", "baseline_start=01/11/2026"])
async def test_a_bad_date_names_the_option_and_the_format_not_a_schema_path(
    services: Services, option: str
) -> None:
    reply = await say(services, f"{CREATE} {option} baseline_end=2026-11-02")
    assert "baseline_start must be an ISO date or time in UTC" in reply, reply
    assert "`2026-11-01T06:00:00Z`" in reply and "`baseline_start=2026-11-01`" in reply
    assert "Fixed" not in reply and "start_at" not in reply and "Something went wrong" not in reply
    backwards = await say(services, f"{CREATE} baseline_start=2026-11-02 baseline_end=2026-11-01")
    assert "baseline_end must come after baseline_start" in backwards


async def test_create_says_what_is_required_and_what_is_optional(services: Services) -> None:
    missing = await say(services, f"{CREATE} alert=0.2")
    assert "`assay create` needs baseline_start and baseline_end" in missing
    assert "Required: baseline_start and baseline_end" in missing
    assert "alert (a number, default `0.1`)" in missing and "bins (" in missing
    assays_help = await say(services, "help assays")
    assert "assay create WS PIPELINE baseline_start=DATE baseline_end=DATE [key=value ...]" in (
        assays_help
    )


def test_wallaroo_refusals_of_a_create_are_put_in_option_names() -> None:
    path = "/v2/api/assays/schedule"
    metric = refused(
        WallarooBadRequest(
            "summarizer.UnivariateContinuous.metric: input should be 'psi'", status=400, path=path
        )
    )
    assert metric.message == "Wallaroo refused the assay's metric: input should be 'psi'."
    assert "`metric=PSI`" in (metric.suggestion or "")
    bins = refused(WallarooBadRequest("a; summarizer.x.bin_mode: expected >= 1", path=path))
    assert bins.message.startswith("Wallaroo refused the assay's bins:")
    start = refused(WallarooBadRequest("baseline.Fixed.start_at: not a datetime", path=path))
    assert start.message.startswith("Wallaroo refused the assay's baseline_start:")
    other = refused(WallarooBadRequest("quota exceeded", path=path))
    assert other.message == "Wallaroo refused the assay: quota exceeded"


async def test_enabling_or_disabling_twice_says_already(
    drift: Emulator, services: Services, api_mode: str
) -> None:
    refs = ["1"] + ([await _v2_prefix(services)] if api_mode == "current" else [])
    for ref in refs:
        assert "is now inactive" in await say(services, f"assay disable {ref}")
        assert "is already inactive" in await say(services, f"assay disable {ref}")
        assert "is now active" in await say(services, f"assay enable {ref}")
        assert "is already active" in await say(services, f"assay enable {ref}")


async def _v2_prefix(services: Services) -> str:
    (assay,) = await services.wallaroo.list_assays_v2()
    return assay.id[:8]


async def test_assay_listings_and_baselines_show_times_in_one_format(
    services: Services, api_mode: str
) -> None:
    listing = await say(services, "assays housepricedrift housepricepipe")
    assert "last run 2" in listing and "T" not in "".join(re.findall(r"run \S+", listing))
    assert len(moments(listing)) == (3 if api_mode == "current" else 1)  # v2: last and next
    baseline = await say(services, "assay baseline 1")
    assert "records from 2026-11-01 00:00 UTC to 2026-11-02 00:00 UTC" in baseline


@pytest.mark.parametrize(
    ("api_mode", "generation"), [("current", "v1"), ("current", "v2"), ("seed", "v1")]
)
async def test_every_result_after_subscribing_counts_however_soon_the_clock_moves(
    drift: Emulator, services: Services, generation: str
) -> None:
    assert drift.demo is not None
    ref = str(drift.demo["assay_id"]) if generation == "v1" else drift.demo["assay_v2_id"][:6]
    assert "will go to" in await say(services, f"subscribe assay {ref} #alerts")
    for _ in range(3):  # three drifted days complete before any poll
        drift.control("clock", {"advance_seconds": DAY_MS / 1000})
    async with services.sessions() as session:
        (subscription,) = await list_subscriptions(session)
        ((cursor, episode),) = (await poll_state(session, [subscription])).values()
    assert await check_assay(services, subscription, cursor, episode) == 3
    latest = (await services.wallaroo.drift_results(subscription.assay_id))[-3:]
    assert [r.status for r in latest] == ["Alert"] * 3
    async with services.sessions() as session:
        (opened,) = await open_episodes(session)
    assert opened.count == 3 and opened.worst_score == max(r.score for r in latest)
    shown = render_text(render_episode(opened, datetime.now(UTC)))
    assert "Breaching results: 3" in shown and f"{max(r.score for r in latest):.4f}" in shown


async def test_a_subscription_made_before_any_result_counts_them_all(
    drift: Emulator, services: Services
) -> None:
    assert drift.demo is not None
    subscription = AssaySubscription(
        assay_id=str(drift.demo["assay_id"]), channel="#alerts", created_by="U"
    )
    async with services.sessions() as session:
        assert await add_subscription(session, subscription, NO_RESULT_YET) is not None
        ((cursor, episode),) = (await poll_state(session, [subscription])).values()
    assert cursor == NO_RESULT_YET
    assert await check_assay(services, subscription, cursor, episode) == 29  # the demo's Ok ones
    newest = (await services.wallaroo.drift_results(subscription.assay_id))[-1]
    async with services.sessions() as session:
        assert await get_cursor(session, subscription.assay_id) == newest.window_start
