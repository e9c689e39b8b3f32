"""A flapping episode that closed "remediated" and reopened is new trouble (#15 items 1 and
3): it offers its remediation buttons again, learnt anew from Wallaroo (the version live now is
the one rolled back to), and the earlier, already-credited request is neither shown on it nor
credits its next close. End to end through the demo's console on both API modes; the credit
over the flap window on the services' clock (moved here), as the poller stages it."""

from __future__ import annotations

import json
from pathlib import Path

from emulator.seed import DAY_MS, PIPELINE
from handlers.alerting.flapping import close_settled
from handlers.alerting.staging import render_current
from handlers.render.alert_messages import details_of, summary
from storage.approvals import ApprovalState
from tests.helpers.alert_flows import undrifted_day
from tests.helpers.console_scripts import GRANTS, answer_to, run_console
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.remediation_flows import ROLLED_BACK, episodes_in, requests_in
from tests.helpers.remediation_flows import newer_live as newer_live
from tests.helpers.remediation_states import SUBJECT, remedy, watched
from tests.helpers.version_flows import live_version

api_mode = both_api_modes


def test_a_reopened_episode_offers_its_remedy_again_learnt_anew(
    newer_live: Emulator, tmp_path: Path
) -> None:
    assert newer_live.demo is not None
    # Day 3 Ok: the first window wholly after the rollback (made during day 2).
    undrifted_day(newer_live, newer_live.demo["drift_starts_ms"] + 2 * DAY_MS)
    run_console(newer_live, tmp_path, [*GRANTS, "subscribe assay 1", ":advance 1d", *ROLLED_BACK])
    (request,) = requests_in(tmp_path)
    assert request.state == "succeeded"
    rolled_back_to = live_version(newer_live, PIPELINE)

    out = run_console(
        newer_live,
        tmp_path,
        [":advance 0", ":advance 2d", ":advance 1d", ":as alice", ":click 6"],
        # Day 4's breach, a day after the close on a clock `:advance` may move: still a flap.
        chatops_flap_window_seconds=2 * 86400,
    )
    assert "Remediated: rolled back to version 1" in answer_to(out, ":advance 2d")
    reopened = answer_to(out, ":advance 1d")
    assert "In trouble again soon after recovering: flapping" in reopened  # day 4 drifts again
    # Its buttons as for a new alert: the version live now is the oldest, so Undeploy only;
    # the earlier rollback is not shown as this trouble's remediation.
    assert "Alert, flapping (3 breaching result(s)" in reopened  # days 1, 2 and 4
    assert "[5 Disable assay]  [6 Undeploy]\n" in reopened, reopened
    assert "Running on version 1" not in reopened and "Roll back" not in reopened
    (episode,) = episodes_in(tmp_path)
    detail = json.loads(episode.detail)
    assert "remediated" not in detail
    assert detail["remedy"]["from_version"] == rolled_back_to  # learnt anew, not the first's
    assert detail["remedy"]["rollback_to"] is None
    asked = out.split("$ :click 6\n", 1)[1]
    assert "Undeploy request #2: housepricepipe" in asked
    assert [(r.id, r.action, r.episode_id) for r in requests_in(tmp_path)] == [
        (1, "rollback", 1),
        (2, "undeploy", 1),
    ]


async def test_a_reopened_episode_does_not_credit_the_earlier_rollback_again(
    emulator: Emulator, tmp_path: Path, database_url: str
) -> None:
    """Error, rolled back (succeeded), Running: remediated. Error again within the window:
    reopened, flapping, with the new remedy and without the old request; Running for the whole
    window then closes it recovered, not "remediated" by the rollback of the earlier trouble."""
    async with watched(emulator, tmp_path, database_url) as pipe:
        await pipe.seen("Running")
        await pipe.seen("Error", remedy("v-new", "v-old"))
        episode = await pipe.episode(1)
        assert episode.subject == SUBJECT and episode.is_open
        await pipe.linked(1, ApprovalState.SUCCEEDED)
        await pipe.seen("Running")
        assert "remediated" in details_of(await pipe.episode(1))
        await pipe.posted(1)

        await pipe.seen("Error", remedy("v-old", None))  # the version rolled back to is live
        reopened = await pipe.episode(1)
        detail = details_of(reopened)
        assert reopened.is_open and detail["flapping"] and "remediated" not in detail
        assert detail["remedy"] == remedy("v-old", None)
        async with pipe.services.sessions() as session:
            shown = await render_current(session, reopened, pipe.clock())
        blocks = json.dumps([b.to_dict() for b in shown.blocks])
        assert "alert_undeploy" in blocks and "alert_rollback" not in blocks
        assert "request #1" not in blocks and "request #1" not in shown.text

        await pipe.seen("Running")  # Ok, but flapping: held open
        window = pipe.services.settings.chatops_flap_window_seconds
        pipe.clock.advance(window)
        async with pipe.services.sessions() as session:
            assert await close_settled(session, pipe.clock(), window) == 1
            await session.commit()
        closed = await pipe.episode(1)
        assert not closed.is_open and "remediated" not in details_of(closed)
        assert summary(closed) == "Deployment pipe: recovered, flapping"
