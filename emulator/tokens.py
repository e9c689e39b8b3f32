"""Keycloak-style tokens: RS256 access JWTs with Wallaroo's claims, opaque refresh tokens."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from emulator.clock import Clock

REALM_PATH = "/auth/realms/master"
HASURA_CLAIMS = "https://hasura.io/jwt/claims"


@dataclass(frozen=True)
class TokenSubject:
    user_id: str
    username: str
    email: str | None


@dataclass
class _RefreshGrant:
    user_id: str
    session_state: str
    expires_at: float


class TokenService:
    def __init__(
        self,
        clock: Clock,
        client_id: str,
        access_seconds: int,
        refresh_seconds: int,
        signing_key: rsa.RSAPrivateKey | None = None,
    ) -> None:
        self._clock = clock
        self._client_id = client_id
        self._access_seconds = access_seconds
        self._refresh_seconds = refresh_seconds
        # A new key each instance, as two Wallaroo instances would not share one; the tests
        # lend each running emulator one made earlier (a 2048-bit key costs ~55 ms of CPU).
        self._key = signing_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._public_key = self._key.public_key()
        self._kid = uuid.uuid4().hex
        self._refresh: dict[str, _RefreshGrant] = {}
        # RSA verification dominates a cheap request; a verified token is remembered.
        self._verified: dict[str, dict[str, Any]] = {}

    def issue(
        self, subject: TokenSubject, issuer_base: str, session_state: str | None = None
    ) -> dict:
        now = int(self._clock.now())
        session_state = session_state or str(uuid.uuid4())
        claims: dict[str, Any] = {
            "exp": now + self._access_seconds,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "iss": issuer_base.rstrip("/") + REALM_PATH,
            "aud": ["master-realm", "account"],
            "sub": subject.user_id,
            "typ": "Bearer",
            "azp": self._client_id,
            "session_state": session_state,
            "scope": "profile email",
            "sid": session_state,
            "email_verified": subject.email is not None,
            "preferred_username": subject.username,
            HASURA_CLAIMS: {
                "x-hasura-user-id": subject.user_id,
                "x-hasura-default-role": "user",
                "x-hasura-allowed-roles": ["user"],
                "x-hasura-user-groups": "{}",
            },
        }
        if subject.email is not None:
            claims["email"] = subject.email
        access = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self._kid})
        refresh = secrets.token_urlsafe(32)
        self._refresh[refresh] = _RefreshGrant(
            subject.user_id, session_state, self._clock.now() + self._refresh_seconds
        )
        return {
            "access_token": access,
            "expires_in": self._access_seconds,
            "refresh_expires_in": self._refresh_seconds,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "session_state": session_state,
            "scope": "profile email",
        }

    def redeem_refresh(self, refresh_token: str) -> tuple[str, str] | None:
        """The (user id, session) a refresh token stands for, or None if unknown or expired.

        Keycloak rotates refresh tokens, so a redeemed one is spent.
        """
        grant = self._refresh.pop(refresh_token, None)
        if grant is None or grant.expires_at <= self._clock.now():
            return None
        return grant.user_id, grant.session_state

    def verify(self, token: str) -> dict[str, Any] | None:
        """The claims of a valid, unexpired access token, else None."""
        claims = self._verified.get(token)
        if claims is None:
            try:
                claims = jwt.decode(
                    token,
                    self._public_key,
                    algorithms=["RS256"],
                    options={
                        "verify_exp": False,
                        "verify_iat": False,
                        "verify_nbf": False,
                        "verify_aud": False,
                    },
                )
            except jwt.PyJWTError:
                return None
            if len(self._verified) > 50_000:
                self._verified.clear()
            self._verified[token] = claims
        # Time claims are judged on the emulator's clock (PyJWT would use the wall clock),
        # so tests can age a token and tokens issued after a clock advance still work.
        if claims["exp"] <= self._clock.now():
            return None
        return claims

    def forget_all(self) -> None:
        self._refresh.clear()
        self._verified.clear()
