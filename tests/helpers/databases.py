"""The bot's SQLite database as a test starts it: migrated once per test process, then copied.

Alembic took ~0.13 s to build the schema (eight revisions, a commit each), and most tests
start a bot on a new database; a copy, which the bot's own upgrade at start then finds current,
takes ~0.01 s. The copy is the file `open_services` would have left, so the bot is tested as it
starts on a database it made before. What is tested about migrating an empty or an old database
(tests/test_storage_migrations.py) takes an empty one (`database_url`), not this.
"""

from __future__ import annotations

import asyncio
import atexit
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from storage.database import make_engine
from storage.migrate import upgrade_database

_lock = threading.Lock()
_template: Path | None = None


def migrated_sqlite(path: Path) -> str:
    """The URL of a SQLite database at `path` with the newest schema: a copy of this process's
    migrated one, unless a database is there already (a bot restarted on it keeps its rows)."""
    if not path.exists():
        shutil.copyfile(_migrated_template(), path)
    return f"sqlite:///{path}"


def _migrated_template() -> Path:
    global _template
    with _lock:
        if _template is None:
            folder = tempfile.mkdtemp(prefix="chatops-template-")
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            path = Path(folder) / "chatops.db"
            # Its own thread and loop: callers may be inside a running loop (async fixtures).
            with ThreadPoolExecutor(max_workers=1) as pool:
                pool.submit(asyncio.run, _migrate(f"sqlite:///{path}")).result()
            _template = path
        return _template


async def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade_database(engine)
    finally:
        # The last connection closing checkpoints the WAL into the file: one file to copy.
        await engine.dispose()
