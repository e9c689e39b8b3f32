"""A multipart/form-data body read as it arrives: small fields collected, the file part handed
on as a stream of chunks, so a 2 GiB model is never held in memory or spooled to a temporary
file before it is stored (Starlette's `request.form()` spools every file part to disk first)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from emulator.errors import bad_request

T = TypeVar("T")
MAX_FIELD_BYTES = 1 << 20  # a form field or the `metadata` JSON; the file part has no limit


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None


@dataclass
class _Events:
    """What the parser reported for one chunk, in order: ("part", _Part), ("data", bytes),
    ("end", None) for a part's end; `finished` once the closing boundary has come."""

    items: list[tuple[str, object]] = field(default_factory=list)
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    headers: dict[str, bytes] = field(default_factory=dict)
    finished: bool = False


def _parser(boundary: bytes, events: _Events) -> MultipartParser:
    def header_end() -> None:
        events.headers[events.header_field.decode("latin-1").lower()] = bytes(events.header_value)
        events.header_field.clear()
        events.header_value.clear()

    def headers_finished() -> None:
        _, options = parse_options_header(events.headers.get("content-disposition", b""))
        filename = options.get(b"filename")
        part = _Part(
            options.get(b"name", b"").decode(),
            filename.decode() if filename is not None else None,
        )
        events.headers.clear()
        events.items.append(("part", part))

    callbacks = {
        "on_header_field": lambda d, s, e: events.header_field.extend(d[s:e]),
        "on_header_value": lambda d, s, e: events.header_value.extend(d[s:e]),
        "on_header_end": header_end,
        "on_headers_finished": headers_finished,
        "on_part_data": lambda d, s, e: events.items.append(("data", bytes(d[s:e]))),
        "on_part_end": lambda: events.items.append(("end", None)),
        "on_end": lambda: setattr(events, "finished", True),
    }
    return MultipartParser(boundary, callbacks)  # type: ignore[arg-type]


async def _events(request: Request) -> AsyncIterator[tuple[str, object]]:
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise bad_request("the body must be multipart/form-data with a boundary")
    events = _Events()
    parser = _parser(boundary, events)
    async for chunk in request.stream():
        try:
            parser.write(chunk)
        except Exception as exc:  # python-multipart's own errors: the body is malformed
            raise bad_request(f"the multipart body is malformed: {exc}") from exc
        items, events.items = events.items, []
        for item in items:
            yield item
    # python-multipart's finalize() does not check this: a body cut off mid-file would
    # otherwise read as a complete (shorter) file.
    if not events.finished:
        raise bad_request("the multipart body ended before its closing boundary")


FileSink = Callable[[dict[str, str], str | None, AsyncIterator[bytes]], Awaitable[T]]


async def read_form(request: Request, file_part: str, sink: FileSink[T]) -> tuple[dict, T | None]:
    """The form's fields (name -> text) and what `sink` made of the file part. `sink` is called
    with the fields that came before the file part, its filename and its data as a stream."""
    fields: dict[str, str] = {}
    stored: T | None = None
    events = _events(request)
    async for kind, value in events:
        if kind != "part":
            continue
        assert isinstance(value, _Part)
        if value.name == file_part and stored is None:

            async def data() -> AsyncIterator[bytes]:
                async for inner, chunk in events:
                    if inner == "end":
                        return
                    if inner == "data" and isinstance(chunk, bytes):
                        yield chunk

            stored = await sink(dict(fields), value.filename, data())
            continue
        text = bytearray()
        async for inner, chunk in events:
            if inner == "end":
                break
            if isinstance(chunk, bytes):
                text.extend(chunk)
                if len(text) > MAX_FIELD_BYTES:
                    raise bad_request(f"form field {value.name!r} is over {MAX_FIELD_BYTES} bytes")
        fields[value.name] = text.decode("utf-8", errors="replace")
    return fields, stored
