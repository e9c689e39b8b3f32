"""The service account's access token from Wallaroo's Keycloak, renewed before it expires."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx
from pydantic import SecretStr

from bot.wallaroo.errors import (
    TRANSPORT_ERRORS,
    WallarooError,
    WallarooUnauthorized,
    decode_body,
    error_for_response,
    message_from_body,
    redact,
    unreachable_from,
)
from bot.wallaroo.models import Token, parse_response

logger = logging.getLogger(__name__)

# Wallaroo's own SDK renews 10 s early; a token that short-lived is renewed at half its life
# instead, so it is not renewed on every call.
REFRESH_MARGIN_SECONDS = 10.0
SHORT_LIFETIME_SECONDS = 20.0


def renewal_margin(lifetime_seconds: float) -> float:
    """How long before expiry a token with this lifetime should be renewed."""
    if lifetime_seconds < SHORT_LIFETIME_SECONDS:
        return lifetime_seconds / 2
    return REFRESH_MARGIN_SECONDS


def _secret(value: str | SecretStr | None) -> SecretStr | None:
    # Held as SecretStr so a debugger, a traceback with locals or vars() shows stars.
    if value is None or isinstance(value, SecretStr):
        return value
    return SecretStr(value)


class ServiceAccountAuth:
    """Bearer tokens for one service account: password grant with a username, else client
    credentials; renewed with the refresh token while it lasts, by a new login after that."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        token_url: str,
        client_id: str,
        client_secret: str | SecretStr,
        username: str | None = None,
        password: str | SecretStr | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._token_url = token_url
        self._path = httpx.URL(token_url).path
        self._client_id = client_id
        self._client_secret = _secret(client_secret) or SecretStr("")
        self._username = username or None
        self._password = _secret(password)
        if self._username is not None and self._password is None:
            raise ValueError("a Wallaroo username needs a password (WALLAROO_PASSWORD)")
        self._clock = clock
        # One renewal at a time: concurrent callers wait for it rather than each logging in.
        self._lock = asyncio.Lock()
        self._access_token: str | None = None
        self._renew_at = 0.0
        self._refresh_token: str | None = None
        self._refresh_usable_until = 0.0

    @property
    def grant_type(self) -> str:
        return "password" if self._username is not None else "client_credentials"

    def __repr__(self) -> str:
        return (
            f"ServiceAccountAuth(token_url={self._token_url!r}, client_id={self._client_id!r}, "
            f"username={self._username!r}, grant_type={self.grant_type!r})"
        )

    async def token(self) -> str:
        """A valid access token, fetching or renewing one if needed."""
        current = self._current()
        if current is not None:
            return current
        async with self._lock:
            # Whoever held the lock before us may have renewed it already.
            current = self._current()
            if current is not None:
                return current
            return await self._renew()

    async def invalidate(self, token: str) -> None:
        """Forget `token` (the API answered 401 to it) so the next `token()` renews.

        A caller holding an older token must not throw away one that was renewed meanwhile.
        """
        if token == self._access_token:
            self._access_token = None

    def _current(self) -> str | None:
        if self._access_token is not None and self._clock() < self._renew_at:
            return self._access_token
        return None

    async def _renew(self) -> str:
        refresh_token = self._refresh_token
        if refresh_token is not None and self._clock() < self._refresh_usable_until:
            try:
                form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
                return await self._fetch(form)
            except WallarooUnauthorized:
                # Keycloak ends sessions early (logout, restart, rotation); a login still works.
                logger.info("Wallaroo refused the refresh token; logging in again")
        self._refresh_token = None
        return await self._fetch(self._login_form())

    def _login_form(self) -> dict[str, str]:
        if self._username is None:
            return {"grant_type": "client_credentials"}
        assert self._password is not None  # checked in __init__
        return {
            "grant_type": "password",
            "username": self._username,
            "password": self._password.get_secret_value(),
        }

    async def _fetch(self, form: dict[str, str]) -> str:
        """POST one grant to the token endpoint and keep what it answers."""
        # Lifetimes count from before the request: the server's clock started no earlier.
        requested_at = self._clock()
        started = time.perf_counter()
        try:
            response = await self._http.post(
                self._token_url,
                data=form,
                auth=httpx.BasicAuth(self._client_id, self._client_secret.get_secret_value()),
                headers={"Accept": "application/json"},
            )
        except TRANSPORT_ERRORS as exc:
            raise unreachable_from(exc, self._path) from exc
        logger.debug(
            "POST %s grant=%s -> %s in %.1f ms",
            self._path,
            form["grant_type"],
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        body = decode_body(response)
        if not response.is_success:
            raise self._refusal(response.status_code, body)
        token = parse_response(Token, body, self._path)
        self._access_token = token.access_token
        self._renew_at = requested_at + token.expires_in - renewal_margin(token.expires_in)
        if token.refresh_token and token.refresh_expires_in > 0:
            self._refresh_token = token.refresh_token
            lifetime = token.refresh_expires_in
            self._refresh_usable_until = requested_at + lifetime - renewal_margin(lifetime)
        else:
            # Client-credentials answers carry no refresh token: renew by logging in again.
            self._refresh_token = None
        return token.access_token

    def _refusal(self, status: int, body: object) -> WallarooError:
        secrets = (
            self._client_secret.get_secret_value(),
            self._password.get_secret_value() if self._password else None,
            self._refresh_token,
        )
        if 400 <= status < 500:
            # Keycloak says 401 for a bad client secret or password and 400 for a disabled
            # account or a spent refresh token; to the bot all of them mean "not let in".
            msg = redact(message_from_body(body, status), secrets)
            return WallarooUnauthorized(msg, status=status, path=self._path)
        return error_for_response(self._path, status, body, secrets=secrets)
