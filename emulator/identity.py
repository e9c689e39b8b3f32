"""Who is calling: the token endpoint, and the bearer check every API call passes."""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from emulator.errors import ApiError, error_response, unauthorized
from emulator.state import EmulatorState, get_state, password_matches
from emulator.tokens import REALM_PATH, TokenSubject

router = APIRouter()

# Assays v2 live under /v2/api/ and need the same token.
API_PREFIXES = ("/v1/api/", "/v2/api/")
PUBLIC_PATHS = frozenset({"/v1/api/docs", "/v1/api/docs/oauth2-redirect"})


@dataclass(frozen=True)
class CurrentUser:
    id: str
    email: str | None
    is_admin: bool


def authenticate(state: EmulatorState, authorization: str) -> CurrentUser:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("missing bearer token: send Authorization: Bearer <access token>")
    claims = state.tokens.verify(token.strip())
    if claims is None:
        raise unauthorized("invalid or expired token")
    row = state.db.one(
        "SELECT id, email, enabled, is_admin FROM users WHERE id = ?", (claims["sub"],)
    )
    if row is None or not row["enabled"]:
        raise unauthorized("user is disabled or no longer exists")
    return CurrentUser(row["id"], row["email"], bool(row["is_admin"]))


class BearerAuthMiddleware:
    """Every call under /v1/api/ and /v2/api/ needs a valid bearer token, checked here once.

    A middleware rather than a FastAPI dependency: no route can forget it, and solving
    dependencies on every request cost the emulator a third of its throughput.
    """

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(API_PREFIXES):
            if scope["path"] in PUBLIC_PATHS:
                await self.app(scope, receive, send)
                return
            authorization = Headers(scope=scope).get("authorization", "")
            try:
                caller = authenticate(self.state, authorization)
            except ApiError as exc:
                await error_response(exc.status, exc.msg)(scope, receive, send)
                return
            scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


def context(request: Request) -> tuple[EmulatorState, CurrentUser]:
    """The emulator's state and the authenticated caller of an API request."""
    return request.app.state.emulator, request.state.caller


State = Annotated[EmulatorState, Depends(get_state)]


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret", "")


@router.post(REALM_PATH + "/protocol/openid-connect/token")
async def token_endpoint(request: Request, state: State) -> JSONResponse:
    form = {k: str(v) for k, v in (await request.form()).items()}
    client_id, secret = _client_credentials(request, form)
    config = state.config
    if client_id != config.client_id or not secrets.compare_digest(secret, config.client_secret):
        return _oauth_error(
            401, "unauthorized_client", "Invalid client or Invalid client credentials"
        )

    grant = form.get("grant_type", "")
    session_state = None
    if grant == "password":
        row = state.db.one(
            "SELECT * FROM users WHERE username = ? OR email = ?",
            (form.get("username", ""), form.get("username", "")),
        )
        if row is None or not password_matches(form.get("password", ""), row["password_hash"]):
            return _oauth_error(401, "invalid_grant", "Invalid user credentials")
    elif grant == "client_credentials":
        row = state.db.one("SELECT * FROM users WHERE id = ?", (state.service_account_id,))
    elif grant == "refresh_token":
        redeemed = state.tokens.redeem_refresh(form.get("refresh_token", ""))
        if redeemed is None:
            return _oauth_error(400, "invalid_grant", "Token is not active")
        user_id, session_state = redeemed
        row = state.db.one("SELECT * FROM users WHERE id = ?", (user_id,))
    else:
        return _oauth_error(400, "unsupported_grant_type", f"Unsupported grant_type: {grant!r}")

    if row is None or not row["enabled"]:
        return _oauth_error(400, "invalid_grant", "Account disabled")
    subject = TokenSubject(row["id"], row["username"], row["email"])
    return JSONResponse(state.tokens.issue(subject, str(request.base_url), session_state))
