"""The client's error paths against the emulator: tokens that expire, credentials refused,
Wallaroo's 400/403/404 as typed errors, and retries for reads only."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from bot.wallaroo import (
    WallarooBadRequest,
    WallarooForbidden,
    WallarooNotFound,
    WallarooServerError,
    WallarooUnauthorized,
    WallarooUnreachable,
)
from tests.helpers.clients import ClientUnderTest
from tests.helpers.emulators import Emulator

MakeClient = Callable[..., ClientUnderTest]


def as_admin(make_client: MakeClient, emulator: Emulator, **kwargs) -> ClientUnderTest:
    return make_client(
        emulator,
        username=emulator.config.admin_email,
        password=emulator.config.admin_password,
        **kwargs,
    )


class TestTokens:
    async def test_expired_token_is_renewed_by_a_new_login_and_the_call_succeeds(
        self, emulator: Emulator, make_client: MakeClient
    ) -> None:
        under_test = as_admin(make_client, emulator)
        await under_test.client.list_features()
        # Both the access token (1 h) and the refresh token (30 min) are now dead server-side,
        # while the client still believes its access token is good.
        emulator.control("clock", {"advance_seconds": 3601})
        features = await under_test.client.list_features()
        assert features.is_auth_enabled
        assert [e.status for e in under_test.sent("features/list")] == [200, 401, 200]
        grants = [e.status for e in under_test.sent("/openid-connect/token")]
        assert grants == [200, 400, 200]  # login, refresh refused, login again

    async def test_expired_token_is_renewed_with_the_refresh_token_while_it_lasts(
        self, start_emulator: Callable[..., Emulator], make_client: MakeClient
    ) -> None:
        emulator = start_emulator(refresh_token_seconds=7200)
        under_test = as_admin(make_client, emulator)
        await under_test.client.list_workspaces()
        emulator.control("clock", {"advance_seconds": 3601})
        assert await under_test.client.list_workspaces()
        assert [e.status for e in under_test.sent("/openid-connect/token")] == [200, 200]

    async def test_a_write_is_sent_again_once_after_a_401(
        self, emulator: Emulator, make_client: MakeClient
    ) -> None:
        under_test = as_admin(make_client, emulator)
        await under_test.client.list_features()
        emulator.control("clock", {"advance_seconds": 3601})
        workspace_id = await under_test.client.create_workspace("after-expiry")
        assert [e.status for e in under_test.sent("workspaces/create")] == [401, 200]
        names = [w.name for w in await under_test.client.list_workspaces()]
        assert names.count("after-expiry") == 1 and workspace_id

    async def test_concurrent_callers_share_one_login(
        self, emulator: Emulator, make_client: MakeClient
    ) -> None:
        under_test = make_client(emulator)  # client credentials
        results = await asyncio.gather(*(under_test.client.list_features() for _ in range(50)))
        assert len(results) == 50
        assert under_test.attempts("/openid-connect/token") == 1

    async def test_wrong_client_secret_is_unauthorized_and_not_echoed(
        self, emulator: Emulator, make_client: MakeClient
    ) -> None:
        under_test = make_client(emulator, client_secret="definitely-wrong-secret")
        with pytest.raises(WallarooUnauthorized) as caught:
            await under_test.client.list_workspaces()
        assert "Invalid client" in str(caught.value)
        assert "definitely-wrong-secret" not in str(caught.value) + repr(caught.value)
        assert under_test.attempts("workspaces/list") == 0

    async def test_wrong_password_is_unauthorized(
        self, emulator: Emulator, make_client: MakeClient
    ) -> None:
        under_test = make_client(
            emulator, username=emulator.config.admin_email, password="not-the-password"
        )
        with pytest.raises(WallarooUnauthorized, match="Invalid user credentials"):
            await under_test.client.list_features()

    async def test_deactivated_user_is_refused(
        self, emulator: Emulator, make_client: MakeClient
    ) -> None:
        admin = as_admin(make_client, emulator).client
        await admin.invite_user("dee@example.com", "dee-password")
        dee = make_client(emulator, username="dee@example.com", password="dee-password")
        await dee.client.list_workspaces()
        await admin.deactivate_user("dee@example.com")
        with pytest.raises(WallarooUnauthorized, match="Account disabled"):
            await dee.client.list_workspaces()
        # One 401 on the API, then the renewal itself is refused: no loop of retries.
        assert under_401(dee) == 1

    async def test_no_token_at_all_is_unauthorized(self, emulator: Emulator) -> None:
        async with httpx.AsyncClient() as http:
            response = await http.post(f"{emulator.api_url}/features/list", json={})
        assert response.status_code == 401 and set(response.json()) == {"msg", "code"}


def under_401(under_test: ClientUnderTest) -> int:
    return sum(e.status == 401 for e in under_test.exchanges)


class TestWallarooRefusals:
    async def test_unknown_ids_are_not_found_with_wallaroos_message(
        self, emulator: Emulator, make_client: MakeClient
    ) -> None:
        client = make_client(emulator).client
        with pytest.raises(WallarooNotFound) as caught:
            await client.get_model(4242)
        assert caught.value.status == 404 and caught.value.msg == "model 4242 not found"
        assert "models/get" in str(caught.value)
        with pytest.raises(WallarooNotFound):
            await client.undeploy_pipeline(4242, 1)
        with pytest.raises(WallarooNotFound):
            await client.list_workspace_users(4242)

    async def test_bad_input_is_a_bad_request_naming_the_field(
        self, emulator: Emulator, make_client: MakeClient
    ) -> None:
        under_test = make_client(emulator)
        client = under_test.client
        with pytest.raises(WallarooBadRequest, match="pipeline_id 'no spaces allowed'"):
            await client.create_pipeline(1, "no spaces allowed")
        await client.invite_user("twice@example.com")
        with pytest.raises(WallarooBadRequest, match="already exists"):
            await client.invite_user("twice@example.com")
        # A refusal is final: each write was sent exactly once.
        assert under_test.attempts("pipelines/create") == 1
        assert under_test.attempts("users/invite") == 2

    async def test_other_users_workspace_is_forbidden(
        self, emulator: Emulator, make_client: MakeClient
    ) -> None:
        admin = make_client(emulator).client
        await admin.invite_user("eve@example.com", "eve-password")
        private = await admin.create_workspace("private")
        eve = make_client(emulator, username="eve@example.com", password="eve-password").client
        with pytest.raises(WallarooForbidden, match="not a member"):
            await eve.list_models(private)
        with pytest.raises(WallarooForbidden, match="only an admin"):
            await eve.invite_user("mallory@example.com")


class TestRetries:
    async def test_a_read_is_retried_after_a_503_and_succeeds(
        self, emulator: Emulator, make_client: MakeClient
    ) -> None:
        under_test = make_client(emulator)
        emulator.control("faults", {"path_prefix": "/v1/api/workspaces/list", "error_rate": 1.0})

        async def heal_after_first_503(response: httpx.Response) -> None:
            if response.status_code == 503:
                emulator.state.faults.clear()

        under_test.http.event_hooks["response"].append(heal_after_first_503)
        workspaces = await under_test.client.list_workspaces()
        assert [w.id for w in workspaces] == [1]
        assert [e.status for e in under_test.sent("workspaces/list")] == [503, 200]

    async def test_a_read_gives_up_after_its_attempts_with_a_server_error(
        self, emulator: Emulator, make_client: MakeClient
    ) -> None:
        under_test = make_client(emulator)
        emulator.control(
            "faults", {"path_prefix": "/v1/api/status", "error_rate": 1.0, "status": 503}
        )
        with pytest.raises(WallarooServerError) as caught:
            await under_test.client.get_deployment_status("hp", 1)
        assert caught.value.status == 503
        assert under_test.attempts("status/get_deployment") == 3

    @pytest.mark.parametrize("status", [500, 503])
    async def test_writes_are_never_retried_on_5xx(
        self, emulator: Emulator, make_client: MakeClient, status: int
    ) -> None:
        under_test = make_client(emulator)
        emulator.control(
            "faults",
            {"path_prefix": "/v1/api/workspaces/create", "error_rate": 1.0, "status": status},
        )
        with pytest.raises(WallarooServerError):
            await under_test.client.create_workspace("once")
        assert under_test.attempts("workspaces/create") == 1

    async def test_injected_latency_past_the_timeout_makes_reads_retry_and_writes_not(
        self, emulator: Emulator, make_client: MakeClient
    ) -> None:
        under_test = make_client(emulator, timeout_seconds=0.2)
        await under_test.client.list_features()  # log in before the slowdown
        emulator.control("faults", {"path_prefix": "/v1/api/", "latency_ms": 600})
        with pytest.raises(WallarooUnreachable, match="could not be reached"):
            await under_test.client.list_workspaces()
        assert under_test.attempts("workspaces/list") == 3
        with pytest.raises(WallarooUnreachable):
            await under_test.client.create_pipeline(1, "slowpipe")
        assert under_test.attempts("pipelines/create") == 1

    async def test_injected_latency_under_the_timeout_only_slows_calls(
        self, emulator: Emulator, make_client: MakeClient
    ) -> None:
        under_test = make_client(emulator)
        emulator.control("faults", {"path_prefix": "/v1/api/", "latency_ms": 50})
        assert (await under_test.client.list_features()).is_auth_enabled
        assert under_test.attempts("features/list") == 1

    async def test_nothing_listening_is_unreachable(
        self, emulator: Emulator, make_client: MakeClient
    ) -> None:
        gone = Emulator("http://127.0.0.1:9", emulator.config, emulator.state, emulator.http)
        under_test = make_client(gone)
        with pytest.raises(WallarooUnreachable, match="could not be reached for login"):
            await under_test.client.list_features()
