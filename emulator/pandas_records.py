"""Today's inference records (`application/json; format=pandas-records`): reading the rows a
client sends, and the `{time, in, out, check_failures, metadata}` records inference and
pipelines/get_logs answer."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from emulator.errors import bad_request

PANDAS_RECORDS = "pandas-records"
# The column name Wallaroo's tutorials send a whole feature row under, whatever the model calls
# its input.
TENSOR = "tensor"


def is_pandas_records(content_type: str | None) -> bool:
    """`application/json; format=pandas-records` (parameters in any order or case)."""
    if not content_type:
        return False
    media, *params = (part.strip().lower() for part in content_type.split(";"))
    return media == "application/json" and f"format={PANDAS_RECORDS}" in params


def parse_records(body: object, input_name: str) -> tuple[np.ndarray, str]:
    """Records `[{<input>: [f, ...]}, ...]` keyed by the model's input name (or `tensor`) as a
    float matrix, with the column name they used."""
    if not isinstance(body, list) or not body or not all(isinstance(r, dict) for r in body):
        raise bad_request(
            f'expected pandas records: a non-empty JSON list like [{{"{input_name}": [1.0, 2.0]}}]'
        )
    column = input_name if input_name in body[0] else TENSOR
    rows = []
    for index, record in enumerate(body):
        unknown = sorted(set(record) - {column})
        if column not in record or unknown:
            names = f"{input_name!r}" + (f" or {TENSOR!r}" if input_name != TENSOR else "")
            extra = f" (unknown: {', '.join(unknown)})" if unknown else ""
            raise bad_request(f"records[{index}] must have exactly one column, {names}{extra}")
        row = record[column]
        if not isinstance(row, list) or any(
            isinstance(v, bool) or not isinstance(v, int | float) for v in row
        ):
            raise bad_request(f"records[{index}].{column} must be a list of numbers")
        rows.append(row)
    if len({len(r) for r in rows}) != 1 or not rows[0]:
        raise bad_request(f"every record's {column} must have the same, non-zero number of values")
    return np.array(rows, np.float64), column


@dataclass(frozen=True)
class RecordContext:
    """What every record of one model in one pipeline carries besides its numbers."""

    input_name: str
    output_names: list[str]
    model_name: str
    model_sha: str
    pipeline_version: str
    partition: str

    @property
    def last_model(self) -> str:
        # A JSON string inside the record, as Wallaroo's SDK json.loads() it; compact, as real
        # answers write it ('{"model_name":"logcontrol","model_sha":"e22a..."}').
        return json.dumps(
            {"model_name": self.model_name, "model_sha": self.model_sha}, separators=(",", ":")
        )


def render_record(
    time_ms: int,
    inputs: list[float],
    outputs: list[list[float]],
    elapsed_ns: list[int],
    context: RecordContext,
) -> dict:
    """One record: `elapsed` is [time spent reading the request, time in the model] in ns."""
    return {
        "time": time_ms,
        "in": {context.input_name: inputs},
        "out": dict(zip(context.output_names, outputs, strict=True)),
        "check_failures": [],
        "metadata": {
            "last_model": context.last_model,
            "pipeline_version": context.pipeline_version,
            "elapsed": elapsed_ns,
            "dropped": [],
            "partition": context.partition,
        },
    }


def output_names(names: list[str], count: int) -> list[str]:
    """The model's output names, or positional ones when the model file is not at hand."""
    if len(names) == count:
        return names
    return ["variable"] if count == 1 else [f"output_{k}" for k in range(count)]
