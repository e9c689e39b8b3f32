"""Small real ONNX models made with onnx's helpers, for the demo data and the tests."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def linear_regression_onnx(n_features: int = 17, seed: int = 0, scale: float = 1.0) -> bytes:
    """y = x·w + 13 with w drawn from `seed`; `scale` multiplies y (the demo's units bug)."""
    rng = np.random.default_rng(seed)
    weights = numpy_helper.from_array(
        (rng.normal(size=(n_features, 1)) * scale).astype(np.float32), name="weights"
    )
    bias = numpy_helper.from_array(np.array([13.0 * scale], dtype=np.float32), name="bias")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["float_input", "weights"], ["product"]),
            helper.make_node("Add", ["product", "bias"], ["variable"]),
        ],
        "linear_regression",
        [helper.make_tensor_value_info("float_input", TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
        initializer=[weights, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model.SerializeToString()
