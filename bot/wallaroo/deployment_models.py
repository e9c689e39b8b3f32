"""Typed views of a deployment: its status (the engines and load balancers it runs on, in the
2025 flat shape or the 2026 spec's nested `info`), the states the bot tells apart, and what
pipelines/deploy and admin/get_pipeline_external_url answer.

A pipeline's listing names its live deployment too (`ListedDeployment`, pipeline_models.py):
that is which deployment serves it; this is how that deployment is doing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from bot.wallaroo.models import WallarooModel


def _lift_info(data: Any) -> Any:
    # The 2026 spec nests a pod's fields under `info` (2025 answers are flat): one view.
    if isinstance(data, dict) and isinstance(data.get("info"), dict):
        return {**data["info"], **{k: v for k, v in data.items() if k != "info"}}
    return data


class EngineStatus(WallarooModel):
    ip: str | None = None
    name: str
    status: str  # Pending, Running, Succeeded, Failed, Unknown
    reason: str | None = None
    details: list[str] = Field(default_factory=list)
    pipeline_statuses: dict[str, Any] | None = None
    model_statuses: dict[str, Any] | None = None

    _flatten = model_validator(mode="before")(_lift_info)


class EngineLbStatus(WallarooModel):
    ip: str | None = None
    name: str
    status: str
    reason: str | None = None
    details: list[str] = Field(default_factory=list)

    _flatten = model_validator(mode="before")(_lift_info)


class DeploymentState(StrEnum):
    """What the bot tells apart about a deployment: Wallaroo's own words for the three states
    it reports, and the bot's for a deployment Wallaroo no longer has (a 404, or none listed)
    and for one it cannot tell (Wallaroo does not answer). Stored as these words (deployment
    health, an episode's severity, a request's last status)."""

    RUNNING = "Running"
    STARTING = "Starting"
    ERROR = "Error"
    GONE = "Gone"
    UNKNOWN = "unknown"


class DeploymentStatus(WallarooModel):
    status: str  # a DeploymentState but GONE, as Wallaroo says it (or another word it adds)
    details: list[str] = Field(default_factory=list)
    engines: list[EngineStatus] = Field(default_factory=list)
    engine_lbs: list[EngineLbStatus] = Field(default_factory=list)
    sidekicks: list[Any] = Field(default_factory=list)
    helm: list[Any] = Field(default_factory=list)

    @property
    def running_versions(self) -> set[str]:
        """Pipeline version UUIDs the engines report (2025 on; empty while starting)."""
        found = set()
        for engine in self.engines:
            pipelines = (engine.pipeline_statuses or {}).get("pipelines")
            for entry in pipelines if isinstance(pipelines, list) else []:
                version = entry.get("version") if isinstance(entry, dict) else None
                if isinstance(version, str):
                    found.add(version)
        return found


class DeploymentCreated(WallarooModel):
    id: int


class ExternalUrl(WallarooModel):
    url: str
