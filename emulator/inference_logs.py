"""Inference logs, kept per pipeline as numpy columns so assays over millions of records stay fast.

They are held in memory: the emulator is for demos, tests and benchmarks, and a restart that
starts with empty logs is fine there. The JSON record shape is in log_records.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from emulator.errors import bad_request


@dataclass(frozen=True)
class Origin:
    """Where records were answered, for today's record metadata: the pipeline version and engine
    pod (bulk loads name neither: None and ""), and the column the request sent rows in (None:
    the model's own input name)."""

    pipeline_version: str | None = None
    partition: str = ""
    input_name: str | None = None


@dataclass(frozen=True)
class Schema:
    """One model version's record shape: its input width and each output's width."""

    inputs: int
    outputs: tuple[int, ...]

    def holds(self, kind: str, index: int, element: int) -> bool:
        if kind == "input":
            return index == 0 and element < self.inputs
        return index < len(self.outputs) and element < self.outputs[index]


@dataclass
class LogColumns:
    """All of one pipeline's records, sorted by time. Records of models with different shapes
    share the columns, padded with NaN to the widest (PipelineLog.values trims them)."""

    times: np.ndarray  # int64 epoch ms
    inputs: np.ndarray  # float64, one row per record
    outputs: list[np.ndarray]  # one float64 matrix per model output
    elapsed: np.ndarray  # int64 ns
    model_codes: np.ndarray  # int32 index into PipelineLog.models
    # int32 index into PipelineLog.origins; None when appended: records that name no origin.
    origin_codes: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.times)

    @property
    def schema(self) -> Schema:
        return Schema(self.inputs.shape[1], tuple(o.shape[1] for o in self.outputs))


@dataclass
class PipelineLog:
    models: list[tuple[str, str]] = field(default_factory=list)
    # Per model code: its records' shape. A pipeline logs whatever its versions' models answer,
    # as Wallaroo's logs change schema when a new model does; one model version has one shape.
    schemas: dict[int, Schema] = field(default_factory=dict)
    # Per record (LogColumns.origin_codes), where it was answered: not per model, so records keep
    # the version and pod that answered them when the model is deployed again elsewhere.
    origins: list[Origin] = field(default_factory=list)
    _chunks: list[LogColumns] = field(default_factory=list)
    _merged: LogColumns | None = None

    def model_code(self, name: str, version: str) -> int:
        key = (name, version)
        if key not in self.models:
            self.models.append(key)
        return self.models.index(key)

    def origin_code(self, origin: Origin) -> int:
        if origin not in self.origins:
            self.origins.append(origin)
        return self.origins.index(origin)

    def append(self, chunk: LogColumns) -> None:
        """Add records of one shape; refused if a model's records had another shape before."""
        schema = chunk.schema
        codes = [int(c) for c in np.unique(chunk.model_codes)]
        for code in codes:
            known = self.schemas.get(code)
            if known is not None and known != schema:
                name, version = self.models[code]
                raise bad_request(
                    f"records of model {name} version {version} have {schema.inputs} input "
                    f"features and outputs of sizes {list(schema.outputs)}, but its earlier "
                    f"records have {known.inputs} and {list(known.outputs)}"
                )
        self.schemas |= dict.fromkeys(codes, schema)
        if chunk.origin_codes is None:
            chunk.origin_codes = np.full(len(chunk), self.origin_code(Origin()), np.int32)
        self._chunks.append(chunk)
        self._merged = None

    def columns(self) -> LogColumns:
        """Every record, merged and sorted by time once per change."""
        if self._merged is None:
            self._merged = _merge(self._chunks)
            self._chunks = [self._merged] if len(self._merged) else []
        return self._merged

    def values(self, i: int) -> tuple[list[float], list[list[float]]]:
        """Record i's (of columns()) inputs and outputs, as its model shaped them."""
        cols = self.columns()
        schema = self.schemas[int(cols.model_codes[i])]
        inputs = cols.inputs[i, : schema.inputs].tolist()
        return inputs, [cols.outputs[k][i, :w].tolist() for k, w in enumerate(schema.outputs)]

    def codes_holding(self, kind: str, index: int, element: int) -> list[int]:
        """The model codes whose records have this iopath's value."""
        return [c for c, s in self.schemas.items() if s.holds(kind, index, element)]


def _padded(matrix: np.ndarray, width: int) -> np.ndarray:
    if matrix.shape[1] == width:
        return matrix
    wider = np.full((len(matrix), width), np.nan)
    wider[:, : matrix.shape[1]] = matrix
    return wider


def _merge(chunks: list[LogColumns]) -> LogColumns:
    if not chunks:
        empty = np.empty(0, np.int64)
        codes = np.empty(0, np.int32)
        return LogColumns(empty, np.empty((0, 0)), [], empty, codes, codes)
    if len(chunks) == 1 and _is_sorted(chunks[0].times):
        return chunks[0]
    width = max(c.inputs.shape[1] for c in chunks)
    count = max(len(c.outputs) for c in chunks)
    widths = [
        max(c.outputs[k].shape[1] for c in chunks if len(c.outputs) > k) for k in range(count)
    ]
    merged = LogColumns(
        np.concatenate([c.times for c in chunks]),
        np.concatenate([_padded(c.inputs, width) for c in chunks]),
        [
            np.concatenate(
                [
                    _padded(c.outputs[k], w) if len(c.outputs) > k else np.full((len(c), w), np.nan)
                    for c in chunks
                ]
            )
            for k, w in enumerate(widths)
        ],
        np.concatenate([c.elapsed for c in chunks]),
        np.concatenate([c.model_codes for c in chunks]),
        np.concatenate([c.origin_codes for c in chunks]),
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
        merged.origin_codes[order],
    )


def _is_sorted(values: np.ndarray) -> bool:
    return bool(np.all(values[1:] >= values[:-1]))


class InferenceLogStore:
    def __init__(self) -> None:
        self._pipelines: dict[str, PipelineLog] = {}
        # Called with the pipeline's name before every read: live traffic (emulator/traffic.py)
        # serves the requests due by then, so readers see the log as of the emulator's clock.
        self.before_read: Callable[[str], None] | None = None

    def pipeline(self, name: str) -> PipelineLog:
        if self.before_read is not None:
            self.before_read(name)
        return self.unhooked(name)

    def unhooked(self, name: str) -> PipelineLog:
        """The pipeline's log as it stands (for the traffic appending to it)."""
        return self._pipelines.setdefault(name, PipelineLog())

    def has(self, name: str) -> bool:
        if self.before_read is not None:
            self.before_read(name)
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
