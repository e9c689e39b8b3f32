"""WALLAROO_ASSAYS=auto over real HTTP: what one probe of v2/api/assays/get decides, and for how
long. A yes holds; a no (404) or a refusal (403) is asked again after a while, so one odd answer
(a proxy's 404 during a restart) does not hide assays v2 for the process's life."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.wallaroo import WallarooForbidden
from bot.wallaroo import assays_v2 as assays_v2_module
from tests.helpers.clients import ClientUnderTest
from tests.helpers.emulators import Emulator

PROBE = "/v2/api/assays/get"


@pytest.fixture(scope="module")
def today(start_module_emulator: Callable[..., Emulator]) -> Emulator:
    return start_module_emulator(api="current", seed_demo=True, deployment_startup_seconds=0)


def fault(emulator: Emulator, status: int) -> None:
    emulator.control("faults", {"path_prefix": PROBE, "error_rate": 1.0, "status": status})


def clear_faults(emulator: Emulator) -> None:
    emulator.http.delete(f"{emulator.url}/emulator/faults").raise_for_status()


@pytest.fixture(autouse=True)
def no_faults(today: Emulator) -> None:
    clear_faults(today)


async def test_a_no_is_asked_again_after_a_while(
    today: Emulator, make_client: Callable[..., ClientUnderTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    under_test = make_client(today)
    fault(today, 404)
    assert not await under_test.client.uses_assays_v2()
    assert not await under_test.client.uses_assays_v2()
    assert under_test.attempts(PROBE) == 1  # remembered meanwhile
    clear_faults(today)
    monkeypatch.setattr(assays_v2_module, "V2_RECHECK_SECONDS", 0.0)
    assert await under_test.client.uses_assays_v2()
    monkeypatch.setattr(assays_v2_module, "V2_RECHECK_SECONDS", 600.0)
    assert await under_test.client.uses_assays_v2()
    assert under_test.attempts(PROBE) == 2  # a yes is never asked again


async def test_a_refusal_is_raised_remembered_then_asked_again(
    today: Emulator, make_client: Callable[..., ClientUnderTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    under_test = make_client(today)
    fault(today, 403)
    for _ in range(2):
        with pytest.raises(WallarooForbidden, match="v2/api/assays/get"):
            await under_test.client.uses_assays_v2()
    assert under_test.attempts(PROBE) == 1
    clear_faults(today)
    monkeypatch.setattr(assays_v2_module, "V2_RECHECK_SECONDS", 0.0)
    assert await under_test.client.uses_assays_v2()
