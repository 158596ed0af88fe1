"""Writes tests/data/tiny_segmenter.onnx: a 1x1 convolution with known
weights, used by the tests to check the `onnx_segment` stage numerically.

prob = sigmoid(-4*r - 4*g - 4*b + 6) for r, g, b in 0..1 (dark ink -> ~1).
Input `image` float32 [1, 3, H, W]; output `prob` float32 [1, 1, H, W].
"""
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

w = numpy_helper.from_array(np.full((1, 3, 1, 1), -4.0, dtype=np.float32), "w")
b = numpy_helper.from_array(np.array([6.0], dtype=np.float32), "b")
conv = helper.make_node("Conv", ["image", "w", "b"], ["logit"])
sig = helper.make_node("Sigmoid", ["logit"], ["prob"])
graph = helper.make_graph(
    [conv, sig], "tiny_segmenter",
    [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "H", "W"])],
    [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, 1, "H", "W"])],
    initializer=[w, b])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="ecgdig")
model.ir_version = 8
onnx.checker.check_model(model)
out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/tiny_segmenter.onnx"
onnx.save(model, out)
print("wrote", out)
