"""Wallaroo's error body `{msg, code}`, and turning validation failures into it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(Exception):
    def __init__(self, status: int, msg: str) -> None:
        super().__init__(msg)
        self.status = status
        self.msg = msg


def bad_request(msg: str) -> ApiError:
    return ApiError(400, msg)


def not_found(msg: str) -> ApiError:
    return ApiError(404, msg)


def forbidden(msg: str) -> ApiError:
    return ApiError(403, msg)


def unauthorized(msg: str) -> ApiError:
    return ApiError(401, msg)


def error_response(status: int, msg: str) -> JSONResponse:
    return JSONResponse({"msg": msg, "code": status}, status_code=status)


def describe_validation_error(exc: RequestValidationError) -> str:
    """One sentence naming every bad field, e.g. "workspace_id: expected an integer"."""
    return describe_errors(exc.errors())


def describe_errors(errors: Sequence[Any]) -> str:
    """The same sentence from pydantic's error list (FastAPI's or a model's own)."""
    parts = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query")]
        field = ".".join(loc) or "body"
        kind = error.get("type", "")
        if kind == "missing":
            parts.append(f"{field} is required")
        elif kind == "json_invalid":
            parts.append("the body is not valid JSON")
        else:
            parts.append(f"{field}: {error.get('msg', 'invalid value').lower()}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.msg)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, describe_validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail))
