"""Inference logs, kept per pipeline as numpy columns so assays over millions of records stay fast.

They are held in memory: the emulator is for demos, tests and benchmarks, and a restart that
starts with empty logs is fine there. The JSON record shape is in log_records.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    # Per (model name, model version): the pipeline version UUID and engine pod that last logged
    # it through inference, for today's record metadata (bulk loads name neither).
    origins: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    # Per model too: the column its last inference sent rows in (`tensor` or the model's input
    # name), which today's records key `in` by, in the answer and in the log alike.
    input_names: dict[tuple[str, str], str] = field(default_factory=dict)
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
    merged = LogColumns(
        np.concatenate([c.times for c in chunks]),
        np.concatenate([c.inputs for c in chunks]),
        [np.concatenate(parts) for parts in zip(*(c.outputs for c in chunks), strict=True)],
        np.concatenate([c.elapsed for c in chunks]),
        np.concatenate([c.model_codes for c in chunks]),
    )
    if _is_sorted(merged.times):
        return merged  # bulk loads and live inference usually arrive in time order
    order = np.argsort(merged.times, kind="stable")
    return LogColumns(
        merged.times[order],
        merged.inputs[order],
        [o[order] for o in merged.outputs],
        merged.elapsed[order],
        merged.model_codes[order],
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

    def add(self, pipeline_name: str, columns: LogColumns, models: list[tuple[str, str]]) -> int:
        """Append decoded records whose model_codes index `models`; all or nothing."""
        if not len(columns):
            return 0
        log = self._pipelines.get(pipeline_name) or PipelineLog()
        codes = np.array([log.model_code(name, version) for name, version in models], np.int32)
        columns.model_codes = codes[columns.model_codes]
        log.append(columns)
        # Registered only once append has accepted the shapes: a refused load leaves no trace.
        self._pipelines[pipeline_name] = log
        return len(columns)
