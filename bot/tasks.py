"""Work that outlives the command that started it (following a deploy), owned by the process.

Tasks are kept here so they are not garbage-collected mid-flight, so the console can wait for
them before it exits, and so closing the services cancels what is left. Cancelled work is not
lost: what it was doing is in the database, and the next start carries on from there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine, Iterable
from typing import Any

logger = logging.getLogger(__name__)


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task %s failed", task.get_name(), exc_info=task.exception())

    @property
    def running(self) -> list[str]:
        return sorted(task.get_name() for task in self._tasks)

    async def drain(self) -> None:
        """Wait for the running tasks, and any they start (callers bound it with a timeout)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks))


async def gather_failures(work: Iterable[Awaitable[object]]) -> list[BaseException]:
    """Run every awaitable at once; return the exceptions raised (the others' work is kept)."""
    results = await asyncio.gather(*work, return_exceptions=True)
    return [r for r in results if isinstance(r, BaseException)]
