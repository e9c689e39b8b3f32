"""Wallaroo failures as one exception tree whose `str()` can go straight into a chat reply."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import aiohttp
import httpx

# A chat reply is the one place these strings end up; anything longer is noise there.
_MAX_MSG_CHARS = 300
# Credentials that servers or proxies sometimes echo back: JWTs and bearer headers.
_JWT = re.compile(r"eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*")
_BEARER = re.compile(r"(?i)\bbearer\s+\S+")
_REDACTED = "[redacted]"
_API_PREFIX = "/v1/api/"
_TOKEN_SUFFIX = "/openid-connect/token"


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with the given secrets and anything token-shaped replaced."""
    for secret in secrets:
        # Very short strings would blank out ordinary words; nobody's secret is that short.
        if secret and len(secret) >= 4:
            text = text.replace(secret, _REDACTED)
    text = _JWT.sub(_REDACTED, text)
    return _BEARER.sub(f"Bearer {_REDACTED}", text)


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _MAX_MSG_CHARS:
        return text[: _MAX_MSG_CHARS - 1] + "…"
    return text


def describe_path(path: str | None) -> str:
    """How a request is named to a person: `workspaces/create`, or `login` for the token call."""
    if not path:
        return "a request"
    if path.endswith(_TOKEN_SUFFIX):
        return "login"
    if path.startswith(_API_PREFIX):
        path = path[len(_API_PREFIX) :]
    return path.lstrip("/")


class WallarooError(Exception):
    """A Wallaroo call failed. `msg` is Wallaroo's own message, already free of credentials."""

    template = "Wallaroo failed on {where}: {msg}"

    def __init__(self, msg: str, *, status: int | None = None, path: str | None = None) -> None:
        self.msg = _shorten(redact(msg)) or "no details given"
        self.status = status
        self.path = path
        super().__init__(self.msg)

    def __str__(self) -> str:
        return self.template.format(
            where=describe_path(self.path), msg=self.msg, status=self.status
        )


class WallarooUnreachable(WallarooError):
    """No answer at all: connection refused, DNS failure, timeout. Safe to retry a read."""

    template = "Wallaroo could not be reached for {where}: {msg}"


class WallarooServerError(WallarooError):
    """A 5xx: Wallaroo took the request and failed; a write may or may not have happened."""

    template = "Wallaroo failed on {where} (HTTP {status}): {msg}"


class WallarooUnauthorized(WallarooError):
    """A 401, or the token endpoint refusing the service account's credentials."""

    template = "Wallaroo did not accept the service account ({where}): {msg}"


class WallarooForbidden(WallarooError):
    template = "Wallaroo does not allow {where}: {msg}"


class WallarooNotFound(WallarooError):
    template = "Wallaroo found nothing for {where}: {msg}"


class WallarooBadRequest(WallarooError):
    """400, 409, 422 and other 4xx: the request itself was refused and nothing was changed."""

    template = "Wallaroo refused {where}: {msg}"


class WallarooBadResponse(WallarooError):
    """Wallaroo answered with a success status but a body this client cannot read."""

    template = "Wallaroo answered {where} with something unexpected: {msg}"


def message_from_body(body: Any, status: int) -> str:
    """Wallaroo's `msg`, Keycloak's `error_description`/`error`, or whatever text there is."""
    if isinstance(body, dict):
        for key in ("msg", "error_description", "error", "detail", "message"):
            value = body.get(key)
            if value:
                return value if isinstance(value, str) else str(value)
    elif isinstance(body, str) and body.strip() and not body.lstrip().startswith("<"):
        return body  # plain text; an HTML error page from a proxy says nothing worth quoting
    return f"HTTP {status}"


def error_class_for_status(status: int) -> type[WallarooError]:
    if status == 401:
        return WallarooUnauthorized
    if status == 403:
        return WallarooForbidden
    if status == 404:
        return WallarooNotFound
    if 400 <= status < 500:
        return WallarooBadRequest
    if status >= 500:
        return WallarooServerError
    # Redirects are not followed and 1xx never reach here; either means a misconfigured URL.
    return WallarooBadResponse


def error_for_response(
    path: str, status: int, body: Any, *, secrets: Iterable[str | None] = ()
) -> WallarooError:
    """The exception for a non-2xx answer; `body` is the decoded JSON, text, or None."""
    msg = redact(message_from_body(body, status), secrets)
    return error_class_for_status(status)(msg, status=status, path=path)


# Boundary helpers shared by the token and API calls.

TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    httpx.TransportError,
    # The aiohttp transport maps most of its errors to httpx's; these catch the rest.
    aiohttp.ClientError,
    TimeoutError,
    OSError,
)


def unreachable_from(exc: BaseException, path: str) -> WallarooUnreachable:
    """A transport failure as WallarooUnreachable; its text names the failure, never a header."""
    detail = str(exc).strip()
    if not detail:
        timed_out = isinstance(exc, httpx.TimeoutException | TimeoutError)
        detail = "timed out" if timed_out else f"connection failed ({type(exc).__name__})"
    return WallarooUnreachable(detail, path=path)


def decode_body(response: httpx.Response) -> Any:
    """The JSON body, else the text (an HTML page from a proxy, say), else None."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text
