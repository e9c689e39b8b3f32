"""Parsing a JSON body by hand, for calls whose body model depends on the API mode (FastAPI
binds one model per route), with the same 400s FastAPI's own validation gives."""

from __future__ import annotations

from typing import TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from emulator.errors import bad_request, describe_errors

Body = TypeVar("Body", bound=BaseModel)


async def parse_body(request: Request, model: type[Body]) -> Body:
    raw = await request.body()
    if not raw.strip():
        raise bad_request("body is required")  # as FastAPI says of a missing body
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise bad_request(describe_errors(exc.errors())) from exc
