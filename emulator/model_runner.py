"""Running uploaded ONNX models with onnxruntime, one cached session per model file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime

from emulator.errors import ApiError, bad_request


class ModelRunner:
    def __init__(self) -> None:
        self._sessions: dict[str, onnxruntime.InferenceSession] = {}

    def session(self, sha: str, path: Path) -> onnxruntime.InferenceSession:
        session = self._sessions.get(sha)
        if session is None:
            options = onnxruntime.SessionOptions()
            # The emulator shares two cores with the bot and the tests; one thread each is plenty.
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            try:
                session = onnxruntime.InferenceSession(
                    str(path), options, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:  # onnxruntime raises its own untyped errors
                raise ApiError(500, f"the model file could not be loaded: {exc}") from exc
            self._sessions[sha] = session
        return session

    def names(self, sha: str, path: Path) -> tuple[str, list[str]]:
        """The model's (first) input name and its output names, which today's records use."""
        session = self.session(sha, path)
        return session.get_inputs()[0].name, [o.name for o in session.get_outputs()]

    def run(self, sha: str, path: Path, tensor: np.ndarray) -> list[np.ndarray]:
        """The model's outputs for a 2-D float input, each as rows x values."""
        session = self.session(sha, path)
        model_input = session.get_inputs()[0]
        width = model_input.shape[1] if len(model_input.shape) > 1 else None
        if isinstance(width, int) and tensor.shape[1] != width:
            raise bad_request(
                f"tensor rows have {tensor.shape[1]} values but the model takes {width}"
            )
        outputs = session.run(None, {model_input.name: tensor.astype(np.float32)})
        return [np.asarray(o, np.float64).reshape(len(tensor), -1) for o in outputs]


def parse_tensor(body: object) -> np.ndarray:
    """The tutorial's inference input `{"tensor": [[f, ...], ...]}` as a float matrix."""
    if not isinstance(body, dict) or "tensor" not in body:
        raise bad_request('expected a JSON object {"tensor": [[number, ...], ...]}')
    rows = body["tensor"]
    if not isinstance(rows, list) or not rows or not all(isinstance(r, list) for r in rows):
        raise bad_request("tensor must be a non-empty list of rows, e.g. [[1.0, 2.0]]")
    if any(isinstance(v, bool) or not isinstance(v, int | float) for r in rows for v in r):
        raise bad_request("tensor values must all be numbers")
    if len({len(r) for r in rows}) != 1 or not rows[0]:
        raise bad_request("tensor rows must all have the same, non-zero number of values")
    return np.array(rows, np.float64)
