"""Today's model upload body (`models/upload_and_convert`): multipart with a `metadata` JSON part
and a `file` part, produced chunk by chunk so a model file is never held whole.

httpx builds multipart bodies only from files it can read (or from bytes); a model streamed
from Slack is neither, so the body is written here, the way httpx would write it: the metadata
part first (the server can refuse the name before any of the file arrives), then the file.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

# What HTML's form encoding (and httpx) does to a filename inside a quoted header value.
_FILENAME_ESCAPES = str.maketrans({'"': "%22", "\r": "%0D", "\n": "%0A", "\\": "\\\\"})


class MultipartStream:
    """A `multipart/form-data` body: the fields, then one file part streamed from `chunks`."""

    def __init__(self, fields: dict[str, Any], filename: str, chunks: AsyncIterable[bytes]) -> None:
        self.boundary = secrets.token_hex(16)
        self._fields = fields
        self._filename = filename.translate(_FILENAME_ESCAPES)
        self._chunks = chunks

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _head(self) -> bytes:
        parts = []
        for name, value in self._fields.items():
            is_json = not isinstance(value, str)
            text = json.dumps(value) if is_json else value
            kind = "Content-Type: application/json\r\n" if is_json else ""
            parts.append(
                f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n'
                f"{kind}\r\n{text}\r\n"
            )
        parts.append(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{self._filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        return "".join(parts).encode()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._head()
        async for chunk in self._chunks:
            if chunk:
                yield chunk
        yield f"\r\n--{self.boundary}--\r\n".encode()
