"""The emulator's Keycloak-style token endpoint and the bearer check on every API call."""

from __future__ import annotations

import jwt
import pytest

from tests.helpers.emulators import Emulator


def _token_call(emulator: Emulator, data: dict, auth: tuple[str, str] | None = None):
    auth = auth or (emulator.config.client_id, emulator.config.client_secret)
    return emulator.http.post(emulator.token_url, data=data, auth=auth)


def test_password_grant_issues_a_jwt_with_wallaroos_claims(emulator: Emulator) -> None:
    response = _token_call(
        emulator,
        {"grant_type": "password", "username": emulator.config.admin_email, "password": "admin"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600 and body["refresh_expires_in"] == 1800
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "RS256"
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["iss"] == emulator.url + "/auth/realms/master"
    assert claims["email"] == claims["preferred_username"] == emulator.config.admin_email
    assert claims["azp"] == "api-client"
    hasura = claims["https://hasura.io/jwt/claims"]
    assert hasura["x-hasura-user-id"] == claims["sub"]
    assert hasura["x-hasura-default-role"] == "user"


def test_client_credentials_act_as_the_service_account(emulator: Emulator) -> None:
    body = _token_call(emulator, {"grant_type": "client_credentials"}).json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["preferred_username"] == "service-account-api-client"
    assert "email" not in claims
    users = emulator.admin().ok("users/query")["users"]
    assert users[claims["sub"]]["username"] == "service-account-api-client"


def test_refresh_grant_rotates_the_refresh_token(emulator: Emulator) -> None:
    first = _token_call(emulator, {"grant_type": "client_credentials"}).json()
    refreshed = _token_call(
        emulator, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert refreshed.status_code == 200
    assert refreshed.json()["session_state"] == first["session_state"]
    again = _token_call(
        emulator, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("data", "auth", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, ("api-client", "wrong"), 401, "unauthorized_client"),
        ({"grant_type": "client_credentials"}, ("other-client", "x"), 401, "unauthorized_client"),
        (
            {"grant_type": "password", "username": "admin@wallaroo.example", "password": "nope"},
            None,
            401,
            "invalid_grant",
        ),
        (
            {"grant_type": "password", "username": "nobody@x.io", "password": "admin"},
            None,
            401,
            "invalid_grant",
        ),
        ({"grant_type": "refresh_token", "refresh_token": "forged"}, None, 400, "invalid_grant"),
        ({"grant_type": "implicit"}, None, 400, "unsupported_grant_type"),
    ],
)
def test_token_refusals(
    emulator: Emulator, data: dict, auth: tuple[str, str] | None, status: int, error: str
) -> None:
    response = _token_call(emulator, data, auth)
    assert response.status_code == status
    assert response.json()["error"] == error


def test_deactivated_user_gets_no_token_and_loses_the_one_it_had(emulator: Emulator) -> None:
    admin = emulator.admin()
    admin.ok("users/invite", {"email": "ana@example.com", "password": "pw-ana"})
    ana = emulator.api("ana@example.com", "pw-ana")
    assert ana.post("workspaces/list").status_code == 200

    admin.ok("users/deactivate", {"email": "ana@example.com"})
    refused = _token_call(
        emulator, {"grant_type": "password", "username": "ana@example.com", "password": "pw-ana"}
    )
    assert refused.status_code == 400
    assert refused.json()["error_description"] == "Account disabled"
    assert ana.post("workspaces/list").status_code == 401

    admin.ok("users/activate", {"email": "ana@example.com"})
    assert emulator.api("ana@example.com", "pw-ana").post("workspaces/list").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
    ],
)
def test_api_calls_need_a_valid_bearer_token(emulator: Emulator, headers: dict) -> None:
    response = emulator.http.post(f"{emulator.api_url}/workspaces/list", json={}, headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"msg", "code"} and body["code"] == 401


def test_a_token_from_another_emulator_is_refused(emulator: Emulator, start_emulator) -> None:
    other = start_emulator()
    foreign = other.token()
    response = emulator.http.post(
        f"{emulator.api_url}/workspaces/list",
        json={},
        headers={"Authorization": f"Bearer {foreign}"},
    )
    assert response.status_code == 401


def test_tokens_expire_on_the_emulators_clock(emulator: Emulator) -> None:
    api = emulator.admin()
    assert api.post("features/list").status_code == 200
    emulator.control("clock", {"advance_seconds": 3599})
    assert api.post("features/list").status_code == 200
    emulator.control("clock", {"advance_seconds": 2})
    expired = api.post("features/list")
    assert expired.status_code == 401
    assert "expired" in expired.json()["msg"]


def test_tokens_issued_after_a_clock_advance_are_accepted(emulator: Emulator) -> None:
    emulator.control("clock", {"advance_seconds": 7 * 86400})
    assert emulator.admin().post("features/list").status_code == 200


def test_refresh_tokens_expire_on_the_emulators_clock(emulator: Emulator) -> None:
    first = _token_call(emulator, {"grant_type": "client_credentials"}).json()
    emulator.control("clock", {"advance_seconds": 1801})
    stale = _token_call(
        emulator, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert stale.status_code == 400 and stale.json()["error"] == "invalid_grant"
