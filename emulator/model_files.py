"""Storing uploaded model files: streamed to disk and hashed chunk by chunk."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from emulator.errors import bad_request


@dataclass(frozen=True)
class StoredFile:
    path: Path
    sha256: str
    size: int


async def store_stream(directory: Path, chunks: AsyncIterator[bytes]) -> StoredFile:
    """Write the chunks to a new file in `directory`; never more than one chunk in memory."""
    path = directory / f"{uuid.uuid4().hex}.model"
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("wb") as out:
            async for chunk in chunks:
                if chunk:
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise bad_request("the model file is empty")
    return StoredFile(path, digest.hexdigest(), size)
