"""The command line when something is wrong or missing: one clear line and exit 2, never a
traceback; bare commands list what they take; --help shows defaults."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.audit import AuditEntry
from storage.database import make_engine, session_factory
from storage.migrate import upgrade_database

REPO = Path(__file__).parent.parent


def run_cli(args: list[str], cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """`wallaroo-chatops ARGS` in `cwd` with only the given settings (and no .env there)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WALLAROO_"))}
    env.pop("DATABASE_URL", None)
    env.pop("CHATOPS_ADMINS", None)
    env |= {"PYTHONPATH": str(REPO), **settings}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_one_line(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0], lines[0]


SLACK = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "secret"}
COMMANDS = [["db", "current"], ["db", "upgrade"], ["audit", "verify"], ["audit", "export"]]
LONG_RUNNING = [(["serve", "--port", "0"], SLACK), (["console"], {}), (["socket"], {})]


@pytest.mark.parametrize("args", [*COMMANDS, *(args for args, _ in LONG_RUNNING)], ids=str)
def test_a_database_url_that_is_no_url_is_one_line(args: list[str], tmp_path: Path) -> None:
    result = run_cli(args, tmp_path, DATABASE_URL="nonsense", **SLACK)
    assert_one_line(result, "DATABASE_URL is not a database URL", "sqlite:///FILE")


@pytest.mark.parametrize(
    ("args", "extra"), [*((args, {}) for args in COMMANDS), *LONG_RUNNING], ids=str
)
def test_an_unreachable_postgresql_is_one_line(
    args: list[str], extra: dict[str, str], tmp_path: Path
) -> None:
    url = f"postgresql+psycopg://bot:hunter2@127.0.0.1:{closed_port()}/chatops"
    result = run_cli(args, tmp_path, DATABASE_URL=url, SLACK_APP_TOKEN="xapp-test", **extra)
    assert_one_line(result, "DATABASE_URL=postgresql+psycopg://bot:***@127.0.0.1", "refused")
    assert "hunter2" not in result.stderr


# A bare `@` in a password splits it at the first `@`; a port that is not a number; a password
# given as a query parameter: none of the secret may reach the one line.
@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://bot:hun@ter2@127.0.0.1:{port}/chatops",
        "postgresql+psycopg://bot:hun@ter2:x@127.0.0.1:{port}/chatops",
        "postgresql+psycopg://bot:pw@127.0.0.1:{port}/chatops?password=ter2&sslmode=disable",
    ],
    ids=["bare-at", "bare-at-and-colon", "query-password"],
)
def test_no_part_of_a_password_is_shown(url: str, tmp_path: Path) -> None:
    result = run_cli(["db", "current"], tmp_path, DATABASE_URL=url.format(port=closed_port()))
    assert_one_line(result, "DATABASE_URL")
    assert "ter2" not in result.stderr


def test_db_current_in_an_empty_folder_creates_no_file(tmp_path: Path) -> None:
    result = run_cli(["db", "current"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "does not exist yet" in result.stdout and "revision none" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_audit_commands_on_a_missing_file_create_none(tmp_path: Path) -> None:
    for action in ("verify", "export"):
        result = run_cli(["audit", action], tmp_path)
        assert_one_line(result, "no audit log in sqlite:///wallaroo-chatops.db")
    assert list(tmp_path.iterdir()) == []


async def _fill_audit_log(database_url: str, rows: int) -> None:
    engine = make_engine(database_url)
    await upgrade_database(engine)
    async with session_factory(engine)() as session:
        for i in range(rows):
            session.add(
                AuditEntry(
                    at=datetime(2026, 1, 1, tzinfo=UTC),
                    slack_user_id="U1",
                    slack_user_name="alice",
                    team_id="T1",
                    channel_id="C1",
                    command_text=f"workspaces {'x' * 200} {i}",
                    area="workspaces",
                    action="list",
                    target="",
                    outcome="ok",
                    duration_ms=1,
                    prev_hash=f"{i:064d}",
                    hash=f"{i + 1:064d}",
                )
            )
        await session.commit()
    await engine.dispose()


def test_audit_export_into_head_ends_quietly(tmp_path: Path) -> None:
    # Far more than a pipe holds, so the export is still writing when head has left.
    asyncio.run(_fill_audit_log(f"sqlite:///{tmp_path}/chatops.db", 3000))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/chatops.db"}
    result = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m bot audit export | head -3; exit ${{PIPESTATUS[0]}}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
    )
    assert result.stdout.count("\n") == 3
    assert result.stderr == "" and result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("args", "lists"),
    [
        ([], ["demo", "console", "serve", "socket", "emulator", "audit", "db"]),
        (["audit"], ["export", "verify"]),
        (["db"], ["upgrade", "current"]),
    ],
    ids=["bare", "audit", "db"],
)
def test_a_bare_command_lists_its_actions(
    args: list[str], lists: list[str], tmp_path: Path
) -> None:
    result = run_cli(args, tmp_path)
    assert result.returncode == 2
    assert "error:" not in result.stderr and "Traceback" not in result.stderr
    for action in lists:
        assert f"    {action} " in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("args", "defaults"),
    [
        (["serve"], ["(default: 0.0.0.0)", "(default: 3000)"]),
        (["console"], ["(default: UCONSOLE)"]),
        (["demo"], ["(default: UDEMOADMIN)"]),
        (["emulator"], ["(default: 8080)", "(default: current)", "(default: 5.0)"]),
        (["audit", "export"], ["(default: jsonl)"]),
    ],
    ids=str,
)
def test_help_shows_defaults(args: list[str], defaults: list[str], tmp_path: Path) -> None:
    result = run_cli([*args, "--help"], tmp_path)
    assert result.returncode == 0
    help_text = " ".join(result.stdout.split())
    for default in defaults:
        assert default in help_text, result.stdout


@pytest.mark.parametrize("command", ["demo", "emulator"])
def test_without_the_demo_extra_the_emulator_commands_say_what_to_install(command: str) -> None:
    # As in an install without `[demo]` (the Docker image): FastAPI cannot be imported.
    script = (
        "import sys; sys.modules['fastapi'] = None; from bot.cli import main; "
        f"sys.exit(main(['{command}']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "pip install 'wallaroo-chatops[demo]'" in result.stderr
    assert "fastapi is missing" in result.stderr and "Traceback" not in result.stderr
