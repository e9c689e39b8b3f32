"""Fixtures of the tests of the emulator's `current` mode: today's Wallaroo by default, its
admin, and a seed emulator of its own to show where the modes differ."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.emulator_setup import fresh_seed_emulator
from tests.helpers.emulators import Api, Emulator


@pytest.fixture
def api_mode() -> str:
    return "current"


@pytest.fixture
def admin(emulator: Emulator) -> Api:
    return emulator.admin()


@pytest.fixture
def seed(shared_emulators: dict[str, Emulator], start_module_emulator: Any) -> Emulator:
    return fresh_seed_emulator(shared_emulators, start_module_emulator)
