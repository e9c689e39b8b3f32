"""The emulator reads multipart uploads as they stream: fields sent before the file are checked
before any of it is stored (a refused name stores nothing, even of a large file), fields sent
after it are checked once it is stored (and the file removed if refused), a body that is not
multipart or is cut off before its closing boundary is a 400 naming what was wrong (and keeps
nothing), and a conversion needs the model's schemas, as Wallaroo's SDK always sends them."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.wallaroo.uploads import MultipartStream
from tests.helpers.emulators import Api, Emulator


@pytest.fixture
def api_mode() -> str:
    return "current"


@pytest.fixture
def admin(emulator: Emulator) -> Api:
    return emulator.admin()


def metadata(name: str) -> dict:
    conversion = {"framework": "onnx", "requirements": []}
    return {"name": name, "visibility": "private", "workspace_id": 1, "conversion": conversion}


def body_of(fields: dict, content: bytes, file_first: bool = False) -> tuple[bytes, str]:
    """A multipart body as MultipartStream writes it, or with the file part first."""
    boundary = "b0undary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'.encode()
        + (value if isinstance(value, str) else json.dumps(value)).encode()
        + b"\r\n"
        for key, value in fields.items()
    ]
    file = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="m.onnx"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + b"\r\n"
    )
    ordered = [file, *parts] if file_first else [*parts, file]
    return b"".join(
        ordered
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def post(admin: Api, body: bytes, content_type: str) -> httpx.Response:
    return admin.post("models/upload", content=body, headers={"Content-Type": content_type})


def test_the_bots_streamed_body_is_stored_whole(
    emulator: Emulator, admin: Api, onnx_bytes: bytes
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(onnx_bytes), 1000):
            yield onnx_bytes[start : start + 1000]

    stream = MultipartStream({"metadata": metadata("streamed")}, 'odd "name".onnx', chunks())

    async def collect() -> bytes:
        return b"".join([part async for part in stream])

    body = asyncio.run(collect())
    response = post(admin, body, stream.content_type)
    assert response.status_code == 200, response.text
    row = emulator.state.db.one("SELECT sha, file_name FROM model_versions")
    assert row["sha"] == hashlib.sha256(onnx_bytes).hexdigest()
    assert row["file_name"] == "odd %22name%22.onnx"  # quoted as browsers (and httpx) do


def test_a_file_sent_before_its_fields_is_checked_once_stored(
    emulator: Emulator, admin: Api, onnx_bytes: bytes
) -> None:
    body, kind = body_of({"metadata": metadata("later")}, onnx_bytes, file_first=True)
    assert post(admin, body, kind).status_code == 200
    refused, kind = body_of({"metadata": metadata("9bad")}, onnx_bytes, file_first=True)
    response = post(admin, refused, kind)
    assert response.status_code == 400 and "not a valid name" in response.json()["msg"]
    assert len(list(emulator.state.model_dir.glob("*.model"))) == 1  # the first one only


def test_a_name_refused_up_front_stores_nothing_of_the_file(emulator: Emulator, admin: Api) -> None:
    body, kind = body_of({"metadata": metadata("9bad")}, b"x" * (4 << 20))
    response = post(admin, body, kind)
    assert response.status_code == 400 and "not a valid name" in response.json()["msg"]
    assert list(emulator.state.model_dir.glob("*.model")) == []


def test_a_body_that_is_not_multipart_or_lacks_the_file(emulator: Emulator, admin: Api) -> None:
    response = admin.post("models/upload", {"name": "m"})
    assert response.status_code == 400 and "multipart/form-data" in response.json()["msg"]
    body, kind = body_of({"metadata": metadata("nofile")}, b"")
    no_file = body.split(b'--b0undary\r\nContent-Disposition: form-data; name="file"')[0]
    response = post(admin, no_file + b"--b0undary--\r\n", kind)
    assert response.status_code == 400 and "file is required" in response.json()["msg"]


def stored_files(emulator: Emulator) -> list:
    return list(emulator.state.model_dir.glob("*.model"))


@pytest.mark.parametrize(
    "ending",
    [b"", b"\r\n--b0undary\r\n"],  # cut off in the file's bytes; after the file, no "--"
)
def test_a_body_cut_off_before_its_closing_boundary_keeps_nothing(
    emulator: Emulator, admin: Api, onnx_bytes: bytes, ending: bytes
) -> None:
    whole, kind = body_of({"metadata": metadata("truncated")}, onnx_bytes)
    closing = b"\r\n--b0undary--\r\n"
    assert whole.endswith(closing)
    response = post(admin, whole[: -len(closing)] + ending, kind)
    assert response.status_code == 400, response.text
    assert "ended before its closing boundary" in response.json()["msg"]
    assert stored_files(emulator) == []
    assert emulator.state.db.all("SELECT id FROM model_versions", ()) == []


def test_a_conversion_needs_both_schemas(emulator: Emulator, admin: Api, onnx_bytes: bytes) -> None:
    fields = metadata("converted") | {"conversion": {"framework": "sklearn", "requirements": []}}
    body, kind = body_of({"metadata": fields}, onnx_bytes)
    headers = {"Content-Type": kind}
    response = admin.post("models/upload_and_convert", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert "metadata.input_schema is required" in response.json()["msg"]
    assert stored_files(emulator) == []
    fields |= {"input_schema": "c2NoZW1h", "output_schema": "c2NoZW1h"}
    body, kind = body_of({"metadata": fields}, onnx_bytes)
    response = admin.post("models/upload_and_convert", content=body, headers=headers)
    assert response.status_code == 202, response.text
