"""Inference records of either generation as rows: one per input row, its inputs and outputs by
column name. Today's records are one row each (`in`, `out`, `metadata`); the tutorial's answer
one record for a whole tensor (`original_data.tensor`, `outputs[k].<Type>.{dim, data}`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.wallaroo.inference_logs import InferenceLogRecord


@dataclass(frozen=True)
class InferenceRow:
    time_ms: int
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    check_failures: list[Any] = field(default_factory=list)
    pipeline_version: str | None = None  # today's metadata names it; the tutorial's does not
    model: str | None = None
    elapsed_ns: int | None = None  # of the record (the tutorial's: of the whole tensor)


def rows_of(records: list[InferenceLogRecord]) -> list[InferenceRow]:
    return [row for record in records for row in _rows(record)]


def _rows(record: InferenceLogRecord) -> list[InferenceRow]:
    extra = record.model_extra or {}
    metadata = record.metadata or {}
    elapsed = metadata.get("elapsed", record.elapsed)
    total = sum(elapsed) if isinstance(elapsed, list) else elapsed
    common: dict[str, Any] = {
        "time_ms": record.time,
        "check_failures": list(record.check_failures),
        "pipeline_version": metadata.get("pipeline_version") or None,
        "model": record.model,
        "elapsed_ns": total if isinstance(total, int) else None,
    }
    if "in" in extra or "out" in extra:
        inputs, outputs = extra.get("in"), extra.get("out")
        return [
            InferenceRow(
                inputs=inputs if isinstance(inputs, dict) else {"in": inputs},
                outputs=outputs if isinstance(outputs, dict) else {"out": outputs},
                **common,
            )
        ]
    tensor = (record.original_data or {}).get("tensor")
    inputs_by_row = tensor if isinstance(tensor, list) and tensor else [None]
    outputs_by_row = _tutorial_outputs(record.outputs or [], len(inputs_by_row))
    return [
        InferenceRow(inputs={"tensor": row_in}, outputs=row_out, **common)
        for row_in, row_out in zip(inputs_by_row, outputs_by_row, strict=False)
    ]


def _tutorial_outputs(outputs: list[Any], rows: int) -> list[dict[str, Any]]:
    """`[{"Float": {"dim": [rows, k], "data": [...]}}, ...]` split into each row's values."""
    names = ["output"] if len(outputs) == 1 else [f"output_{k}" for k in range(len(outputs))]
    by_row: list[dict[str, Any]] = [{} for _ in range(rows)]
    for name, output in zip(names, outputs, strict=True):
        typed: Any = next(iter(output.values()), {}) if isinstance(output, dict) else {}
        data = typed.get("data") if isinstance(typed, dict) else None
        if not isinstance(data, list):
            continue
        width = max(1, len(data) // rows) if rows else len(data)
        for index in range(rows):
            by_row[index][name] = data[index * width : (index + 1) * width]
    return by_row
