"""A throw-away PostgreSQL server for the tests: Debian's server binaries (`apt-get install
postgresql`, as `.ci/run` does), a private cluster in a temporary folder on a free loopback
port, trust authentication, fsync off. `TEST_POSTGRES_URL` points the tests at an existing
server instead (a database they may create databases on)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from tests.helpers.net import free_port

USER = "chatops"


class PostgresMissing(RuntimeError):
    pass


def _binary(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None
    )
    if found is None:
        raise PostgresMissing(
            f"PostgreSQL's {name} is not installed: run `apt-get install postgresql` "
            "(see README), or set TEST_POSTGRES_URL to a server the tests may use"
        )
    return found


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A server URL (`postgresql+psycopg://...`, no database); stopped and removed on exit."""
    if os.environ.get("TEST_POSTGRES_URL"):
        yield os.environ["TEST_POSTGRES_URL"]
        return
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    # PostgreSQL refuses to run as root; Debian's package made the `postgres` user for that.
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="chatops-pg-"))
    base.chmod(0o755)
    if as_user:
        shutil.chown(base, "postgres", "postgres")
    data, port = base / "data", free_port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "check": True}
    subprocess.run([*as_user, initdb, "-D", str(data), "-U", USER, "--auth=trust"], **quiet)
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    options += " -c synchronous_commit=off -c max_connections=200"
    log = str(base / "server.log")
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-o", options, "-l", log, "-w", "start"], **quiet
    )
    try:
        yield f"postgresql+psycopg://{USER}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], **quiet)
        shutil.rmtree(base, ignore_errors=True)


def create_database(server_url: str) -> str:
    """A new empty database on the server; returns its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = make_url(server_url)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)
