"""The models a pipeline version runs, read from its definition the way Wallaroo's SDK writes
it: `{"steps": [{"ModelInference": {"models": [{name, version, sha}]}}, ...]}`."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator

from bot.wallaroo.models import WallarooModel


def _str_or_none(value: Any) -> Any:
    return value if isinstance(value, str) else None


class ModelStep(WallarooModel):
    """A model a pipeline version runs, as its definition names it (`ModelForStep`)."""

    name: str
    version: Annotated[str | None, BeforeValidator(_str_or_none)] = None  # a UUID
    sha: Annotated[str | None, BeforeValidator(_str_or_none)] = None


def model_steps_in(definition: Any) -> list[ModelStep] | None:
    """The models a version's definition (`{"steps": [...]}`) runs, in order; None when the
    answer did not carry a definition. Models sit in `ModelInference.models` and, in split
    and row-routing steps, one level deeper (`weights[].model`), so any `{name, version}` or
    `{name, sha}` object inside a step counts."""
    if not isinstance(definition, dict):
        return None
    steps = definition.get("steps")
    if steps is None:
        return []
    found: list[ModelStep] = []
    _collect_models(steps, found)
    return found


def _collect_models(value: Any, found: list[ModelStep]) -> None:
    if isinstance(value, list):
        for item in value:
            _collect_models(item, found)
    elif isinstance(value, dict):
        named = isinstance(value.get("name"), str)
        if named and ("version" in value or "sha" in value):
            found.append(ModelStep.model_validate(value))
            return
        for item in value.values():
            _collect_models(item, found)
