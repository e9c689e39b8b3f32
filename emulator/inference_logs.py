"""Inference logs, kept per pipeline as numpy columns so assays over millions of records stay fast.

Records arrive in the tutorial's log shape (one tensor row each). They are held in memory: the
emulator is for demos, tests and benchmarks, and a restart starting with empty logs is fine there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emulator.errors import bad_request


@dataclass
class LogColumns:
    """All of one pipeline's records, sorted by time."""

    times: np.ndarray  # int64 epoch ms
    inputs: np.ndarray  # float64, one row per record
    outputs: list[np.ndarray]  # one float64 matrix per model output
    elapsed: np.ndarray  # int64 ns
    model_codes: np.ndarray  # int32 index into PipelineLog.models

    def __len__(self) -> int:
        return len(self.times)


@dataclass
class PipelineLog:
    models: list[tuple[str, str]] = field(default_factory=list)
    _chunks: list[LogColumns] = field(default_factory=list)
    _merged: LogColumns | None = None

    def model_code(self, name: str, version: str) -> int:
        key = (name, version)
        if key not in self.models:
            self.models.append(key)
        return self.models.index(key)

    def append(self, chunk: LogColumns) -> None:
        if self._chunks:
            first = self._chunks[0]
            if chunk.inputs.shape[1] != first.inputs.shape[1]:
                raise bad_request(
                    f"records have {chunk.inputs.shape[1]} input features but this pipeline's "
                    f"log has {first.inputs.shape[1]}"
                )
            if [o.shape[1] for o in chunk.outputs] != [o.shape[1] for o in first.outputs]:
                raise bad_request("records' outputs differ in shape from this pipeline's log")
        self._chunks.append(chunk)
        self._merged = None

    def columns(self) -> LogColumns:
        """Every record, merged and sorted by time once per change."""
        if self._merged is None:
            self._merged = _merge(self._chunks)
            self._chunks = [self._merged] if len(self._merged) else []
        return self._merged


def _merge(chunks: list[LogColumns]) -> LogColumns:
    if not chunks:
        empty = np.empty(0, np.int64)
        return LogColumns(empty, np.empty((0, 0)), [], empty, np.empty(0, np.int32))
    if len(chunks) == 1 and _is_sorted(chunks[0].times):
        return chunks[0]
    times = np.concatenate([c.times for c in chunks])
    order = np.argsort(times, kind="stable")
    return LogColumns(
        times[order],
        np.concatenate([c.inputs for c in chunks])[order],
        [np.concatenate(parts)[order] for parts in zip(*(c.outputs for c in chunks), strict=True)],
        np.concatenate([c.elapsed for c in chunks])[order],
        np.concatenate([c.model_codes for c in chunks])[order],
    )


def _is_sorted(values: np.ndarray) -> bool:
    return bool(np.all(values[1:] >= values[:-1]))


class InferenceLogStore:
    def __init__(self) -> None:
        self._pipelines: dict[str, PipelineLog] = {}

    def pipeline(self, name: str) -> PipelineLog:
        return self._pipelines.setdefault(name, PipelineLog())

    def has(self, name: str) -> bool:
        return name in self._pipelines

    def clear(self) -> None:
        self._pipelines.clear()

    def add_records(self, pipeline_name: str, records: list[Any]) -> int:
        """Append records in the tutorial's log shape; all or nothing."""
        if not isinstance(records, list):
            raise bad_request("records must be a list of inference log records")
        if not records:
            return 0
        columns, models = columns_from_records(records)
        # Parsed in full before the log is touched, so a refused load leaves no trace.
        log = self._pipelines.get(pipeline_name) or PipelineLog()
        codes = np.array([log.model_code(name, version) for name, version in models], np.int32)
        columns.model_codes = codes[columns.model_codes]
        log.append(columns)
        self._pipelines[pipeline_name] = log
        return len(records)


def columns_from_records(records: list[Any]) -> tuple[LogColumns, list[tuple[str, str]]]:
    """The records as columns; model_codes index the returned (name, version) list."""
    models: dict[tuple[str, str], int] = {}
    try:
        times = np.fromiter((r["time"] for r in records), np.int64, len(records))
        inputs = np.array([r["original_data"]["tensor"][0] for r in records], np.float64)
        first_outputs = records[0]["outputs"]
        outputs = [
            np.array([r["outputs"][k]["Float"]["data"] for r in records], np.float64)
            for k in range(len(first_outputs))
        ]
        elapsed = np.fromiter((r.get("elapsed", 0) for r in records), np.int64, len(records))
        codes = np.fromiter(
            (
                models.setdefault((r["model_name"], r["model_version"]), len(models))
                for r in records
            ),
            np.int32,
            len(records),
        )
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise bad_request(describe_bad_record(records)) from exc
    if inputs.ndim != 2 or any(o.ndim != 2 for o in outputs):
        raise bad_request("every record's tensor row and output data must have the same length")
    return LogColumns(times, inputs, outputs, elapsed, codes), list(models)


def describe_bad_record(records: list[Any]) -> str:
    """Find the first record that does not have the log shape, to say which and why."""
    for index, record in enumerate(records):
        try:
            float(record["time"])
            row = record["original_data"]["tensor"][0]
            [float(v) for v in row]
            [float(v) for v in record["outputs"][0]["Float"]["data"]]
            str(record["model_name"]), str(record["model_version"])
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            return (
                f"records[{index}] is not an inference log record ({type(exc).__name__}: {exc}); "
                "expected time, model_name, model_version, original_data.tensor[[...]] and "
                "outputs[{Float: {data}}]"
            )
    return "records differ in shape: every tensor row and output must have the same length"


def render_records(log: PipelineLog, pipeline_name: str, rows: np.ndarray) -> list[dict]:
    """The tutorial's log record shape for the given row indexes of log.columns()."""
    cols = log.columns()
    out = []
    for i in rows.tolist():
        name, version = log.models[cols.model_codes[i]]
        out.append(
            {
                "check_failures": [],
                "elapsed": int(cols.elapsed[i]),
                "model_name": name,
                "model_version": version,
                "original_data": {"tensor": [cols.inputs[i].tolist()]},
                "outputs": [
                    {"Float": {"data": o[i].tolist(), "dim": [1, o.shape[1]], "v": 1}}
                    for o in cols.outputs
                ],
                "pipeline_name": pipeline_name,
                "time": int(cols.times[i]),
            }
        )
    return out
