"""What an emulator instance is started with (CLI flags and test fixtures fill this in)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

DEFAULT_ADMIN_EMAIL = "admin@wallaroo.example"
DEFAULT_ADMIN_PASSWORD = "admin"
DEFAULT_CLIENT_ID = "api-client"
DEFAULT_CLIENT_SECRET = "emulator-secret"

# Which Wallaroo the emulator answers as: "current" is today's (2024.4-2026.x shapes, assays v2;
# shared/reference/wallaroo-api-current.md), "seed" the 2022 tutorial's.
ApiMode = Literal["current", "seed"]
API_MODES: tuple[ApiMode, ...] = ("current", "seed")

# What the seeded demo shows (emulator/seed.py): "input-drift", feature 0 of the requests drifts
# from today's midnight; "bad-release", a new model version with a units bug is deployed at
# start-up, so the predictions drift while the inputs stay steady, until it is rolled back.
DemoStory = Literal["input-drift", "bad-release"]
DEMO_STORIES: tuple[DemoStory, ...] = ("input-drift", "bad-release")


@dataclass(frozen=True)
class EmulatorConfig:
    admin_email: str = DEFAULT_ADMIN_EMAIL
    admin_password: str = DEFAULT_ADMIN_PASSWORD
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    # ":memory:" keeps state in the process; a path keeps it across restarts.
    database: str = ":memory:"
    # Uploaded model files land here; None means a fresh temporary directory.
    model_dir: Path | None = None
    access_token_seconds: int = 3600
    refresh_token_seconds: int = 1800
    # How long a deployment stays Starting before it is Running (on the emulator's clock).
    deployment_startup_seconds: float = 5.0
    # The first this many seconds of that start-up report Error, then Starting (a transient
    # Error, as real Wallaroo deployments sometimes show); 0 for none.
    deployment_startup_error_seconds: float = 0.0
    # The control API answers loopback clients only, unless this is set.
    control_api_everywhere: bool = False
    instance_name: str = "Wallaroo Emulator"
    # Seed the drift demo (emulator/seed.py) at start-up, telling `demo_story`.
    seed_demo: bool = False
    demo_story: DemoStory = "input-drift"
    api: ApiMode = "current"
