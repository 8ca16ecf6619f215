"""Writes the bench's compute-heavy model: an MLP 256 → 1024 → 1024 → 16 (ReLU, softmax) with
seeded random weights, about 1.3 M parameters, so that the model, not the HTTP layer, costs
most of a request. Usage: /usr/bin/python3 bench/make_mlp.py out.onnx [sizes], where sizes
(default 256,1024,1024,16) are the layer widths from input to output."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(0)
sizes = [int(v) for v in sys.argv[2].split(",")] if len(sys.argv) > 2 else [256, 1024, 1024, 16]
nodes, inits = [], []
x = "input"
for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
    w = (rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32)
    inits += [numpy_helper.from_array(w, f"W{i}"), numpy_helper.from_array(np.zeros(b, np.float32), f"B{i}")]
    nodes += [helper.make_node("MatMul", [x, f"W{i}"], [f"m{i}"]), helper.make_node("Add", [f"m{i}", f"B{i}"], [f"a{i}"])]
    x = f"a{i}"
    if i < len(sizes) - 2:
        nodes.append(helper.make_node("Relu", [x], [f"r{i}"]))
        x = f"r{i}"
nodes.append(helper.make_node("Softmax", [x], ["probabilities"], axis=-1))
graph = helper.make_graph(
    nodes, "mlp",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", sizes[0]])],
    [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", sizes[-1]])],
    inits,
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
onnx.checker.check_model(model)
onnx.save(model, sys.argv[1])
