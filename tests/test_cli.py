"""The installed command line: `wallaroo-chatops emulator` serves a working MLOps API."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emulator.config import DEFAULT_ADMIN_EMAIL, DEFAULT_CLIENT_SECRET
from tests.helpers.net import HTTP, free_port, wait_until


@pytest.fixture
def emulator_banner() -> Iterator[tuple[str, list[str]]]:
    """`wallaroo-chatops emulator --seed-demo` as a real process: its URL and its banner."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "bot", "emulator", "--port", str(port), "--seed-demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the emulator exited: {process.stdout.read()}")
            try:
                HTTP.post(f"{base}/v1/api/features/list", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert process.stdout is not None
        banner = [process.stdout.readline().strip() for _ in range(5)]
        yield base, banner
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def emulator_process(emulator_banner: tuple[str, list[str]]) -> str:
    return emulator_banner[0]


def test_emulator_command_serves_the_seeded_demo(emulator_process: str) -> None:
    token = httpx.post(
        f"{emulator_process}/auth/realms/master/protocol/openid-connect/token",
        data={"grant_type": "password", "username": DEFAULT_ADMIN_EMAIL, "password": "admin"},
        auth=("api-client", DEFAULT_CLIENT_SECRET),
    ).json()["access_token"]
    workspaces = httpx.post(
        f"{emulator_process}/v1/api/workspaces/list",
        json={},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["workspaces"]
    assert "housepricedrift" in [w["name"] for w in workspaces]


def test_unknown_command_is_refused_with_usage() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "launch-rockets"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "invalid choice" in result.stderr and "emulator" in result.stderr


def test_demo_answers_piped_commands_and_exits() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        input="/wallaroo workspaces\n/wallaroo pipelines housepricedrift\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "$ /wallaroo workspaces" in out and "housepricedrift" in out
    assert "$ /wallaroo pipelines housepricedrift" in out and "housepricepipe" in out
    assert "Traceback" not in result.stderr


def test_demo_as_a_viewer_is_refused_writes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--as", "UVIEWER1"],
        input="workspace create mine\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "operator" in result.stdout and "viewer" in result.stdout


def _run_cli(args: list[str], env_changes: dict[str, str | None]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WALLAROO_"))}
    env |= {k: v for k, v in env_changes.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def test_serve_without_slack_credentials_says_what_is_missing() -> None:
    result = _run_cli(["serve"], {})
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_setting_is_named_not_a_traceback() -> None:
    result = _run_cli(["console"], {"WALLAROO_API_URL": "http://wallaroo.example/api"})
    assert result.returncode == 2
    assert "WALLAROO_API_URL" in result.stderr and "/v1/api" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_walks_through_a_drift_alert_and_an_approved_deploy() -> None:
    script = "\n".join(
        [
            "subscribe assay 1",
            ":advance 1d",
            ":advance nonsense",
            "deploy housepricedrift housepricepipe retrain",
            ":as UDEMOLEAD",
            "approve 1",
            # Past the deployment's 5 s start-up on the emulator's clock rather than waiting it
            # out. (Should the deploy call come after the move, it takes those 5 s instead.)
            "status housepricedrift housepricepipe",
            ":advance 10",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        input=script + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Alert: drift on assay “price assay”" in out  # the demo's assay 1
    assert "-drift.png" in out and "saved to" in out
    assert "Usage: :advance SECONDS" in out
    assert "Approved request #1" in out and "housepricepipe is deployed" in out
    assert "Traceback" not in result.stderr


def test_the_emulator_banner_is_all_a_new_user_pastes(
    emulator_banner: tuple[str, list[str]],
) -> None:
    """As README says: start the emulator, paste the variables it prints, run the console."""
    base, banner = emulator_banner
    assert "answering as today's Wallaroo, assays v2" in banner[0]
    pasted = dict(line.split("=", 1) for line in banner if line.startswith("WALLAROO_"))
    assert pasted == {"WALLAROO_URL": base, "WALLAROO_CLIENT_SECRET": DEFAULT_CLIENT_SECRET}
    env = {**os.environ, **pasted, "DATABASE_URL": "sqlite://", "CHATOPS_ADMINS": "UCONSOLE"}
    for name in ("WALLAROO_API_URL", "WALLAROO_TOKEN_URL", "WALLAROO_USERNAME"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--as", "UCONSOLE"],
        input="models housepricedrift\nassays housepricedrift housepricepipe\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "housepricemodel" in result.stdout
    assert "example assay" in result.stdout and "(v2)" in result.stdout


def _console_env(base: str, db_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a new user who pasted the emulator's banner and set nothing else
    (the database: a file, as the default is, since the console's poller and its commands
    use it at once)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WALLAROO_"))}
    env.pop("CHATOPS_ADMINS", None)
    return env | {
        "WALLAROO_URL": base,
        "WALLAROO_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        "DATABASE_URL": f"sqlite:///{db_dir}/chatops.db",
        **extra,
    }


def test_console_on_a_local_emulator_makes_its_user_an_admin(
    emulator_banner: tuple[str, list[str]], tmp_path: Path
) -> None:
    base, _ = emulator_banner
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input="workspace create first-hour\naccess list\n",
        capture_output=True,
        text=True,
        env=_console_env(base, tmp_path),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"UCONSOLE is an admin: Wallaroo is on this machine ({base})" in out
    assert "CHATOPS_ADMINS is not set" in out
    assert "Created workspace first-hour" in out
    assert "UCONSOLE" in out.split("$ access list")[1] and "admin" in out.split("$ access list")[1]
    assert "Traceback" not in result.stderr


def test_console_against_a_remote_wallaroo_grants_nobody(tmp_path: Path) -> None:
    # Nothing listens there; the console still starts, and its user stays a viewer.
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input="access list\n",
        capture_output=True,
        text=True,
        env=_console_env("https://wallaroo.example.com", tmp_path, SLACK_BOT_TOKEN="xoxb-not-used"),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "is an admin" not in result.stdout
    assert "Not polling: SLACK_BOT_TOKEN is set" in result.stdout


def _lines_of(process: subprocess.Popen) -> list[str]:
    """stdout's lines as they arrive, read on a thread so the test can wait for one."""
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


def test_console_polls_and_prints_the_drift_alert(
    emulator_banner: tuple[str, list[str]], tmp_path: Path
) -> None:
    """As the demo does: subscribe, move the standalone emulator's clock past the drift, and
    the alert arrives at the console's prompt from its own poller."""
    base, _ = emulator_banner

    def result_calls() -> int:
        counts = HTTP.get(f"{base}/emulator/requests").json()["counts"]
        return sum(n for path, n in counts.items() if "results" in path)

    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "bot", "console"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_console_env(base, tmp_path, CHATOPS_POLL_SECONDS="0.5"),
    )
    assert process.stdin is not None
    try:
        lines = _lines_of(process)
        wait_until(lambda: any("Polling Wallaroo every 0.5 s" in line for line in lines))
        process.stdin.write("subscribe assay 1\n")
        process.stdin.flush()
        wait_until(lambda: any("Alerts for assay" in line for line in lines))
        before = result_calls()
        wait_until(lambda: result_calls() > before)  # a poll has seen the latest result
        httpx.post(f"{base}/emulator/clock", json={"advance_seconds": 86400}).raise_for_status()
        wait_until(lambda: any("Alert" in line and "drift" in line for line in lines))
    finally:
        process.stdin.close()
        process.wait(timeout=30)
    assert process.returncode == 0
    assert process.stderr is not None and "Traceback" not in process.stderr.read()
