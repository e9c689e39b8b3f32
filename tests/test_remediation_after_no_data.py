"""An alert opened by the status or results that end a "no data" episode offers remediation
like any other opening (#15 items 1 and 2): a deployment whose status could not be read and is
then read as Error, an assay silent for two windows whose next result drifts. Both emulator API
modes, the real app over HTTP and a fake Slack; the bot's clock moved by the test."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from emulator.seed import PIPELINE
from tests.helpers.alert_flows import ALERTS, FAST, next_day, openings, say, thread
from tests.helpers.alert_flows import drift as drift
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.net import wait_until
from tests.helpers.release_story import undeploy
from tests.helpers.slack_bot import running_bot
from tests.helpers.version_flows import deploy_directly, new_version

api_mode = both_api_modes
DAY = 86_400.0
STATUS_FAULT = {"path_prefix": "/v1/api/status/get_deployment", "error_rate": 1.0, "status": 500}


def test_an_error_read_after_no_data_opens_an_alert_with_its_remediation(
    start_emulator: Callable[..., Emulator], tmp_path: Path, api_mode: str
) -> None:
    # A newer version deployed now reports Error for ten minutes (the emulator's clock).
    failing = start_emulator(
        api=api_mode,
        seed_demo=True,
        deployment_startup_seconds=1200,
        deployment_startup_error_seconds=600,
    )
    deploy_directly(failing, PIPELINE, new_version(failing, PIPELINE, []))
    settings = {**FAST, "chatops_poll_seconds": 5.0, "chatops_startup_error_grace_seconds": 0}
    with running_bot(failing, tmp_path, **settings) as bot:
        assert bot.clock is not None
        failing.control("faults", STATUS_FAULT)
        try:
            say(bot, f"watch housepricedrift housepricepipe <#{ALERTS}|a>")
            for _ in range(3):  # three polls without a status: no data
                bot.poll_once()
                bot.clock.advance(5)
            (silent,) = openings(bot.slack)
            assert "cannot be read" in json.dumps(silent)
            assert "alert_undeploy" not in json.dumps(silent)  # no data: nothing to undo
        finally:
            failing.http.delete(f"{failing.url}/emulator/faults")
        bot.poll_once()  # a status again, and it is Error: the no-data episode ends, an alert opens
        assert any("answers a status again" in json.dumps(t) for t in thread(bot.slack))
        (_, alert) = openings(bot.slack)
        text = json.dumps(alert)
        assert "Deployment housepricepipe is in Error" in text
        assert "alert_rollback" in text and "alert_undeploy" in text, text


def test_a_drifting_result_after_no_data_opens_an_alert_with_its_remediation(
    drift: Emulator, tmp_path: Path
) -> None:
    assert drift.demo is not None
    with running_bot(drift, tmp_path, **FAST) as bot:
        assert bot.clock is not None
        say(bot, f"subscribe assay {drift.demo['assay_id']} <#{ALERTS}|a>")
        bot.poll_once()
        bot.clock.advance(2.5 * DAY)  # two windows without a result (Wallaroo's clock stays)
        (silent,) = wait_until(lambda: openings(bot.slack))
        assert "has produced no new result" in json.dumps(silent, ensure_ascii=False)
        next_day(drift)  # results again, the first drifted day's
        (_, alert) = wait_until(lambda: openings(bot.slack)[1:] and openings(bot.slack))
        text = json.dumps(alert, ensure_ascii=False)
        assert "Alert: drift on assay" in text
        assert "alert_undeploy" in text, text


def test_an_undeployed_pipelines_assays_are_not_silent_trouble(
    drift: Emulator, tmp_path: Path
) -> None:
    """Undeployed (the bot's Undeploy remedy, or anyone's), a pipeline serves nothing, so its
    assays have no new results: not a "no data" alert. Deployed again and still silent, it is."""
    assert drift.demo is not None
    with running_bot(drift, tmp_path, **FAST) as bot:
        assert bot.clock is not None
        say(bot, f"subscribe assay {drift.demo['assay_id']} <#{ALERTS}|a>")
        bot.poll_once()
        undeploy(drift)
        bot.clock.advance(2.5 * DAY)  # two windows without a result
        bot.poll_once()
        assert openings(bot.slack) == []
        deploy_directly(drift, PIPELINE, new_version(drift, PIPELINE, []))  # serves, no traffic
        bot.clock.advance(DAY / 4)  # the next time silence is asked about
        bot.poll_once()
        (silent,) = openings(bot.slack)
        assert "has produced no new result" in json.dumps(silent, ensure_ascii=False)
