"""Inference log records, as assays/get_baseline lists them (and inference answers them):
the tutorial's shape and today's, read as one view."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, RootModel

from bot.wallaroo.models import WallarooModel, none_as_empty_list


def _decoded(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


class InferenceLogRecord(WallarooModel):
    """One logged inference: the tutorial's record (`elapsed` in ns, `model_name`, `outputs`)
    or today's (`in`/`out`, and `metadata` whose `last_model` is a JSON string, `elapsed`
    `[int, int]`, `pipeline_version` possibly "", `partition` a pod name; maybe `anomaly`)."""

    check_failures: list[Any] = Field(default_factory=list)
    elapsed: int | list[int] | None = None  # ns; today's `[int, int]` is not documented
    model_name: str | None = None
    model_version: str | None = None
    original_data: dict[str, Any] | None = None
    outputs: list[Any] | None = None
    pipeline_name: str | None = None
    time: int  # epoch milliseconds
    shadow_data: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    anomaly: dict[str, Any] | None = None

    @property
    def last_model(self) -> dict[str, Any]:
        """`metadata.last_model` decoded (`{model_name, model_sha}`); {} when absent."""
        raw = (self.metadata or {}).get("last_model")
        decoded = _decoded(raw) if isinstance(raw, str) else raw
        return decoded if isinstance(decoded, dict) else {}

    @property
    def model(self) -> str | None:
        """Which model answered: the tutorial's `model_name`, else today's last_model."""
        name = self.model_name or self.last_model.get("model_name")
        return name if isinstance(name, str) else None


class InferenceLogRecordList(
    RootModel[Annotated[list[InferenceLogRecord], BeforeValidator(none_as_empty_list)]]
):
    pass
