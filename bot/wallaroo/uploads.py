"""Today's model upload (`models/upload`): which frameworks it takes, the name rule Wallaroo's SDK
checks first, and its body, multipart with a `metadata` JSON part and a `file` part, produced
chunk by chunk so a model file is never held whole.

httpx builds multipart bodies only from files it can read (or from bytes); a model streamed
from Slack is neither, so the body is written here, the way httpx would write it: the metadata
part first (the server can refuse the name before any of the file arrives), then the file.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

# What Wallaroo's SDK (2026.1) uploads unconverted through `models/upload`
# (UPLOAD_MODEL_STREAM_SUPPORTED_FLAVORS); every other framework goes to `upload_and_convert`
# with the model's input and output schemas (base64 Arrow), which a chat command cannot give.
NATIVE_FRAMEWORKS = ("onnx", "tensorflow")
# The rest of the SDK's Framework enum.
CONVERTED_FRAMEWORKS = frozenset(
    {"custom", "keras", "mlflow", "python", "pytorch", "sglang", "sklearn", "vllm", "xgboost"}
    | {
        f"hugging-face-{task}"
        for task in (
            "automatic-speech-recognition", "feature-extraction", "image-classification",
            "image-segmentation", "image-to-text", "object-detection", "question-answering",
            "sentiment-analysis", "stable-diffusion-text-2-img", "summarization",
            "text-classification", "text-generation", "translation", "zero-shot-classification",
            "zero-shot-image-classification", "zero-shot-object-detection",
        )
    }
)  # fmt: skip
_DNS_LABEL = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")


def dns_compliant(name: str) -> bool:
    """The SDK's require_dns_compliance, which it runs before any upload."""
    return len(name) < 64 and _DNS_LABEL.fullmatch(name) is not None and not name.endswith("-")


def conversion_for(framework: str) -> dict[str, Any]:
    """The `conversion` object the SDK sends for a framework, with its defaults."""
    return {
        "arch": "x86",
        "accel": "none",
        "framework": framework,
        "framework_config": None,
        "python_version": "3.8",
        "requirements": [],
    }


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
