"""What `serve` writes to its log as a real process: one INFO line per poll with its figures,
none of APScheduler's per-job lines, and no bolt warning about the token at start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from emulator.server import serve_in_thread
from tests.helpers.emulators import Emulator
from tests.helpers.fake_slack import FakeSlack
from tests.helpers.net import free_port, healthy, wait_until
from tests.helpers.slack_bot import SIGNING_SECRET, Bot


def log_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def test_serve_logs_one_line_per_poll_and_no_token_warning(
    start_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    drift = start_emulator(seed_demo=True, deployment_startup_seconds=0)
    slack = FakeSlack()
    log = tmp_path / "serve.log"
    port = free_port()
    with serve_in_thread(slack.app()) as slack_url:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CHATOPS_"))},
            # In the environment, as a deployment sets it: what made bolt warn at every start.
            "SLACK_BOT_TOKEN": "xoxb-serve-logs",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": f"{slack_url}/api/",
            "WALLAROO_URL": drift.url,
            "WALLAROO_CLIENT_SECRET": drift.config.client_secret,
            "DATABASE_URL": f"sqlite:///{tmp_path}/chatops.db",
            "CHATOPS_ADMINS": "UADMIN",
            "CHATOPS_POLL_SECONDS": "0.25",
            "CHATOPS_LOG_FORMAT": "json",
        }
        with log.open("w") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: healthy(url), timeout=60)
            bot = Bot(url, slack, slack_url)
            _, key = bot.command("subscribe assay 1 #alerts")
            assert "will go to #alerts" in bot.reply_to(key)["text"]

            def assay_polls() -> list[dict]:
                return [r for r in log_records(log) if r.get("poll") == "assays"]

            polls = wait_until(lambda: len(assay_polls()) >= 3 and assay_polls(), timeout=30)
        finally:
            process.terminate()
            process.wait(timeout=20)

    records = log_records(log)
    text = log.read_text()
    assert "will be unused" not in text
    for poll in polls:
        assert poll["level"] == "INFO" and poll["logger"] == "bot.scheduler"
        assert poll["objects"] == 1 and poll["failures"] == 0 and poll["seconds"] >= 0
        assert poll["message"].startswith("poll assays: 1 checked in ")
    # APScheduler's per-run lines stay at DEBUG; its warnings (a run skipped because the one
    # before overran, as on a loaded machine) are meant to show, so only INFO is counted.
    scheduler_lines = [
        r for r in records if r["logger"].startswith("apscheduler") and r["level"] == "INFO"
    ]
    assert scheduler_lines == [], scheduler_lines[:3]
