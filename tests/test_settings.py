"""Settings a real user can get right: one base URL names the API, assays v2 and the token URL."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import Settings


def settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_the_base_url_alone_gives_all_three_urls() -> None:
    found = settings(wallaroo_url="https://wallaroo.example.com/")
    assert found.wallaroo_api_url == "https://wallaroo.example.com/v1/api"
    assert found.wallaroo_v2_api_url == "https://wallaroo.example.com/v2/api"
    assert found.wallaroo_token_url == (
        "https://wallaroo.example.com/auth/realms/master/protocol/openid-connect/token"
    )


def test_the_api_url_pasted_as_the_base_url_is_understood() -> None:
    found = settings(wallaroo_url="https://wallaroo.example.com/v1/api")
    assert found.wallaroo_api_url == "https://wallaroo.example.com/v1/api"
    assert found.wallaroo_v2_api_url == "https://wallaroo.example.com/v2/api"


def test_the_old_url_settings_still_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALLAROO_URL", "https://wallaroo.example.com")
    monkeypatch.setenv("WALLAROO_API_URL", "https://api.example.com/v1/api/")
    monkeypatch.setenv("WALLAROO_TOKEN_URL", "https://keycloak.example.com/token")
    found = Settings(_env_file=None)  # type: ignore[call-arg]
    assert found.wallaroo_api_url == "https://api.example.com/v1/api"
    assert found.wallaroo_v2_api_url == "https://api.example.com/v2/api"
    assert found.wallaroo_token_url == "https://keycloak.example.com/token"


def test_nothing_set_means_a_local_emulator() -> None:
    found = settings()
    assert found.wallaroo_api_url == "http://127.0.0.1:8080/v1/api"
    assert found.wallaroo_assays == "auto"


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"wallaroo_url": "wallaroo.example.com"}, "WALLAROO_URL must start with https://"),
        ({"wallaroo_api_url": "https://w.example.com/api"}, "WALLAROO_API_URL must end in /v1/api"),
        ({"wallaroo_assays": "v3"}, "wallaroo_assays"),
    ],
)
def test_a_wrong_setting_says_what_is_wrong(values: dict[str, str], named: str) -> None:
    with pytest.raises(ValidationError) as raised:
        settings(**values)
    assert named in str(raised.value)
