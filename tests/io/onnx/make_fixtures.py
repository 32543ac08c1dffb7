#!/usr/bin/env python3
"""make_fixtures.py: the per-op ONNX test models of ptq_onnx_tests, with ONNX Runtime's outputs.

Run by hand (never by the tests), from anywhere:
    /usr/bin/python3 -m venv --system-site-packages ~/.cache/ptq/ort-venv
    ~/.cache/ptq/ort-venv/bin/pip install onnxruntime==1.19.2     # Debian's python3-onnx 1.12, numpy 1.24
    ~/.cache/ptq/ort-venv/bin/python tests/io/onnx/make_fixtures.py

Writes, under tests/io/onnx/ (ONNX's own test-data layout):
    cases/<case>/model.onnx                     a small graph, NCHW inputs as PyTorch exports them
    cases/<case>/test_data_set_0/input_<k>.pb   serialized onnx.TensorProto inputs (seeded random)
    cases/<case>/test_data_set_0/output_<k>.pb  ONNX Runtime's outputs (CPU provider, graph
                                                optimizations off: the model as written)
    errors/<case>.onnx                          models ptq must refuse with a clear error (no outputs)
The test (tests/io/onnx_import_test.cpp) imports each case, runs it through ptq's interpreter and
compares with ONNX Runtime's outputs; it knows the expected message of each error case.
"""
import os
import shutil

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "cases")
ERRORS = os.path.join(HERE, "errors")

rng = np.random.default_rng(20240605)
F = TensorProto.FLOAT


def rand(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def ints(name, values):
    return numpy_helper.from_array(np.asarray(values, dtype=np.int64), name)


def vi(name, shape, elem=F):
    return helper.make_tensor_value_info(name, elem, shape)


def model(nodes, inputs, outputs, inits=(), opset=13, name="case"):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="ptq-make_fixtures")
    m.ir_version = 8
    return m


def run_ort(m, feeds):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def case(name, m, feeds, outs=None):
    """Writes one case: the model, its inputs (in graph-input order) and ORT's outputs (or `outs`,
    ORT's outputs of an equivalent model where ORT lacks the case itself)."""
    if outs is None:
        outs = run_ort(m, feeds)
    for o, v in zip(m.graph.output, outs):  # declare the output shapes ORT found
        o.CopyFrom(helper.make_tensor_value_info(o.name, o.type.tensor_type.elem_type, list(np.asarray(v).shape)))
    onnx.checker.check_model(m)
    d = os.path.join(CASES, name)
    data = os.path.join(d, "test_data_set_0")
    os.makedirs(data)
    onnx.save(m, os.path.join(d, "model.onnx"))
    names = [i.name for i in m.graph.input if i.name not in {t.name for t in m.graph.initializer}]
    for k, n in enumerate(names):
        onnx.save_tensor(numpy_helper.from_array(feeds[n], n), os.path.join(data, f"input_{k}.pb"))
    for k, (o, v) in enumerate(zip(m.graph.output, outs)):
        onnx.save_tensor(numpy_helper.from_array(np.asarray(v), o.name), os.path.join(data, f"output_{k}.pb"))


def error(name, m):
    onnx.save(m, os.path.join(ERRORS, name + ".onnx"))


def conv_node(x, w, b, y, **kw):
    return helper.make_node("Conv", [x, w] + ([b] if b else []), [y], name=y + "_conv", **kw)


# ---- run-time cases ----------------------------------------------------------------------------
def make_cases():
    x8 = rand(1, 3, 8, 8)

    def conv_case(name, wshape, bias=True, xin=x8, **kw):
        inits = [init("w", rand(*wshape, scale=0.3))]
        if bias:
            inits.append(init("b", rand(wshape[0], scale=0.1)))
        m = model([conv_node("x", "w", "b" if bias else None, "y", **kw)], [vi("x", list(xin.shape))], [vi("y", None)], inits)
        case(name, m, {"x": xin})

    conv_case("conv_same_bias", [4, 3, 3, 3], pads=[1, 1, 1, 1])
    conv_case("conv_stride2_valid_nobias", [5, 3, 3, 3], bias=False, strides=[2, 2])
    conv_case("conv_asymmetric_pads", [4, 3, 3, 3], pads=[0, 1, 2, 0])
    conv_case("conv_dilation2", [4, 3, 3, 3], pads=[2, 2, 2, 2], dilations=[2, 2])
    conv_case("conv_auto_pad_same_upper_s2", [4, 3, 3, 3], auto_pad="SAME_UPPER", strides=[2, 2])
    conv_case("conv_auto_pad_same_lower_s2", [4, 3, 3, 3], auto_pad="SAME_LOWER", strides=[2, 2])
    conv_case("conv_auto_pad_valid_rect", [4, 3, 2, 3], auto_pad="VALID", strides=[1, 2])
    x4 = rand(1, 4, 7, 7)
    conv_case("conv_depthwise_multiplier2", [8, 1, 3, 3], xin=x4, group=4, pads=[1, 1, 1, 1])
    conv_case("conv_depthwise_stride2", [4, 1, 3, 3], xin=x4, group=4, strides=[2, 2], pads=[1, 1, 1, 1])
    conv_case("conv_grouped", [6, 2, 3, 3], xin=x4, group=2, pads=[1, 1, 1, 1])

    # Conv + Relu (fused), Conv + BatchNormalization (folded) + Clip(0, 6) (fused Relu6).
    inits = [init("w", rand(4, 3, 3, 3, scale=0.3)), init("b", rand(4, scale=0.1))]
    case("conv_relu", model([conv_node("x", "w", "b", "c"), helper.make_node("Relu", ["c"], ["y"])],
                            [vi("x", [1, 3, 8, 8])], [vi("y", None)], inits), {"x": x8})
    bn = [init("s", rng.uniform(0.5, 1.5, 4).astype(np.float32)), init("bb", rand(4, scale=0.2)),
          init("mean", rand(4, scale=0.2)), init("var", rng.uniform(0.5, 2.0, 4).astype(np.float32)),
          init("lo", np.float32(0)), init("hi", np.float32(6))]
    case("conv_bn_relu6", model([conv_node("x", "w", "b", "c"),
                                 helper.make_node("BatchNormalization", ["c", "s", "bb", "mean", "var"], ["n"], epsilon=1e-3),
                                 helper.make_node("Clip", ["n", "lo", "hi"], ["y"])],
                                [vi("x", [1, 3, 8, 8])], [vi("y", None)], inits + bn), {"x": rand(1, 3, 8, 8, scale=3)})
    bn3 = [init("s", rng.uniform(0.5, 1.5, 3).astype(np.float32)), init("bb", rand(3)), init("mean", rand(3)),
           init("var", rng.uniform(0.5, 2.0, 3).astype(np.float32))]
    case("batchnorm_standalone", model([helper.make_node("BatchNormalization", ["x", "s", "bb", "mean", "var"], ["y"])],
                                       [vi("x", [1, 3, 4, 4])], [vi("y", None)], bn3), {"x": rand(1, 3, 4, 4)})
    case("conv_transpose_1x1", model([helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"])],
                                     [vi("x", [1, 3, 5, 5])], [vi("y", None)],
                                     [init("w", rand(3, 4, 1, 1)), init("b", rand(4))]), {"x": rand(1, 3, 5, 5)})

    # Gemm, MatMul.
    case("gemm_transb_alpha_beta", model([helper.make_node("Gemm", ["x", "w", "c"], ["y"], transB=1, alpha=0.5, beta=2.0)],
                                         [vi("x", [2, 8])], [vi("y", None)], [init("w", rand(5, 8)), init("c", rand(5))]),
         {"x": rand(2, 8)})
    case("gemm_c_row", model([helper.make_node("Gemm", ["x", "w", "c"], ["y"])],
                             [vi("x", [3, 6])], [vi("y", None)], [init("w", rand(6, 4)), init("c", rand(1, 4))]),
         {"x": rand(3, 6)})
    case("gemm_c_matrix_transa", model([helper.make_node("Gemm", ["x", "w", "c"], ["y"], transA=1)],
                                       [vi("x", [6, 3])], [vi("y", None)], [init("w", rand(6, 4)), init("c", rand(3, 4))]),
         {"x": rand(6, 3)})
    case("gemm_runtime_b", model([helper.make_node("Gemm", ["x", "z"], ["y"], transB=1, alpha=2.0)],
                                 [vi("x", [3, 6]), vi("z", [4, 6])], [vi("y", None)]),
         {"x": rand(3, 6), "z": rand(4, 6)})
    case("matmul_const_3d", model([helper.make_node("MatMul", ["x", "w"], ["y"])],
                                  [vi("x", [2, 3, 8])], [vi("y", None)], [init("w", rand(8, 5))]), {"x": rand(2, 3, 8)})
    case("matmul_runtime", model([helper.make_node("MatMul", ["a", "b"], ["y"])],
                                 [vi("a", [2, 3, 4]), vi("b", [2, 4, 5])], [vi("y", None)]),
         {"a": rand(2, 3, 4), "b": rand(2, 4, 5)})

    # Elementwise with constants in NCHW broadcasting (permuted for NHWC at import).
    inits = [init("w", rand(4, 3, 3, 3, scale=0.3)), init("k1", rand(4, 1, 1)), init("k2", np.float32(1.5)),
             init("k3", rand(1, 4, 1, 1)), init("k4", np.array([2.0, -4.0, 0.5, 8.0], np.float32).reshape(4, 1, 1)),
             init("k5", rand(6))]
    case("elementwise_const_broadcast", model([conv_node("x", "w", None, "c"), helper.make_node("Add", ["c", "k1"], ["a"]),
                                               helper.make_node("Mul", ["a", "k2"], ["m"]), helper.make_node("Sub", ["k3", "m"], ["s"]),
                                               helper.make_node("Div", ["s", "k4"], ["d"]), helper.make_node("Add", ["d", "k5"], ["y"])],
                                              [vi("x", [1, 3, 8, 8])], [vi("y", None)], inits), {"x": x8})
    inits = [init("w1", rand(4, 3, 3, 3, scale=0.3)), init("w2", rand(4, 3, 1, 1, scale=0.3))]
    case("residual_add_relu", model([conv_node("x", "w1", None, "a", pads=[1, 1, 1, 1]), conv_node("x", "w2", None, "b"),
                                     helper.make_node("Add", ["a", "b"], ["s"]), helper.make_node("Relu", ["s"], ["y"])],
                                    [vi("x", [1, 3, 8, 8])], [vi("y", None)], inits), {"x": x8})

    # Activations, each to its own output (4-D outputs).
    acts = [("LeakyRelu", {"alpha": 0.1}), ("HardSigmoid", {"alpha": 0.25, "beta": 0.4}), ("HardSwish", {}),
            ("Sigmoid", {}), ("Tanh", {}), ("Relu", {})]
    nodes = [helper.make_node(op, ["x"], [f"y{k}"], **kw) for k, (op, kw) in enumerate(acts)]
    nodes.append(helper.make_node("Clip", ["x", "z", "six"], ["y6"]))
    nodes.append(helper.make_node("Clip", ["x", "m1", "p1"], ["y7"]))
    nodes.append(helper.make_node("Clip", ["x", "lo", "hi"], ["y8"]))
    nodes.append(helper.make_node("Clip", ["x", "z"], ["y9"]))
    cl = [init("z", np.float32(0)), init("six", np.float32(6)), init("m1", np.float32(-1)), init("p1", np.float32(1)),
          init("lo", np.float32(-0.5)), init("hi", np.float32(2.5))]
    case("activations", model(nodes, [vi("x", [1, 3, 4, 4])], [vi(f"y{k}", None) for k in range(10)], cl, opset=14),
         {"x": rand(1, 3, 4, 4, scale=4)})

    # Pooling.
    def pool_case(name, op, xin, pre_relu=False, **kw):
        nodes = [helper.make_node("Relu", ["x"], ["r"])] if pre_relu else []
        nodes.append(helper.make_node(op, ["r" if pre_relu else "x"], ["y"], **kw))
        case(name, model(nodes, [vi("x", list(xin.shape))], [vi("y", None)]), {"x": xin})

    x9 = rand(1, 3, 9, 8)
    pool_case("maxpool_k2s2", "MaxPool", x8, kernel_shape=[2, 2], strides=[2, 2])
    pool_case("maxpool_same_k3s1", "MaxPool", x8, kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    pool_case("maxpool_k3s2p1_after_relu", "MaxPool", x9, pre_relu=True, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    pool_case("maxpool_ceil_noop", "MaxPool", x8, kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)
    pool_case("avgpool_exclude_pad", "AveragePool", x8, kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    pool_case("avgpool_include_pad", "AveragePool", x9, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1)
    pool_case("avgpool_auto_same_upper", "AveragePool", x9, kernel_shape=[2, 3], strides=[2, 2], auto_pad="SAME_UPPER")
    pool_case("global_average_pool", "GlobalAveragePool", x9)

    # Layout-sensitive ops after NCHW convs.
    w = init("w", rand(4, 3, 3, 3, scale=0.3))
    case("conv_flatten_gemm", model([conv_node("x", "w", None, "c"), helper.make_node("Flatten", ["c"], ["f"]),
                                     helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], transB=1)],
                                    [vi("x", [1, 3, 6, 6])], [vi("y", None)], [w, init("fw", rand(5, 64, scale=0.2)), init("fb", rand(5))]),
         {"x": rand(1, 3, 6, 6)})
    case("conv_gap_flatten_gemm_softmax", model([conv_node("x", "w", None, "c"), helper.make_node("GlobalAveragePool", ["c"], ["p"]),
                                                 helper.make_node("Flatten", ["p"], ["f"]),
                                                 helper.make_node("Gemm", ["f", "fw", "fb"], ["g"], transB=1),
                                                 helper.make_node("Softmax", ["g"], ["y"])],
                                                [vi("x", [1, 3, 6, 6])], [vi("y", None)],
                                                [w, init("fw", rand(5, 4)), init("fb", rand(5))]), {"x": rand(1, 3, 6, 6)})
    # x.view(x.size(0), -1) as PyTorch exports it: Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
    nodes = [conv_node("x", "w", None, "c"), helper.make_node("Shape", ["c"], ["sh"]),
             helper.make_node("Gather", ["sh", "zero"], ["n"], axis=0), helper.make_node("Unsqueeze", ["n", "ax0"], ["nu"]),
             helper.make_node("Concat", ["nu", "minus1"], ["shape"], axis=0), helper.make_node("Reshape", ["c", "shape"], ["f"]),
             helper.make_node("MatMul", ["f", "mw"], ["y"])]
    case("shape_subgraph_reshape_matmul", model(nodes, [vi("x", [2, 3, 5, 5])], [vi("y", None)],
                                                [w, init("zero", np.int64(0)), ints("ax0", [0]), ints("minus1", [-1]),
                                                 init("mw", rand(36, 3, scale=0.2))]), {"x": rand(2, 3, 5, 5)})
    case("transpose_to_nhwc", model([conv_node("x", "w", None, "c"), helper.make_node("Transpose", ["c"], ["y"], perm=[0, 2, 3, 1])],
                                    [vi("x", [1, 3, 5, 5])], [vi("y", None)], [w]), {"x": rand(1, 3, 5, 5)})
    case("transpose_from_nhwc", model([helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]), conv_node("t", "w", None, "y")],
                                      [vi("x", [1, 5, 5, 3])], [vi("y", None)], [w]), {"x": rand(1, 5, 5, 3)})
    case("transpose_general", model([helper.make_node("Transpose", ["x"], ["y"], perm=[2, 0, 1])],
                                    [vi("x", [2, 3, 4])], [vi("y", None)]), {"x": rand(2, 3, 4)})
    case("concat_channels", model([conv_node("x", "w", None, "a"), conv_node("x", "w2", None, "b"),
                                   helper.make_node("Concat", ["a", "b"], ["c"], axis=1), conv_node("c", "w3", None, "y")],
                                  [vi("x", [1, 3, 6, 6])], [vi("y", None)],
                                  [w, init("w2", rand(2, 3, 3, 3, scale=0.3)), init("w3", rand(3, 6, 1, 1))]), {"x": rand(1, 3, 6, 6)})
    case("pad_then_conv", model([helper.make_node("Pad", ["x", "pads"], ["p"]), conv_node("p", "w", None, "y")],
                                [vi("x", [1, 3, 5, 5])], [vi("y", None)], [w, ints("pads", [0, 0, 1, 2, 0, 0, 2, 1])]),
         {"x": rand(1, 3, 5, 5)})
    case("softmax_channel_axis", model([conv_node("x", "w", None, "c"), helper.make_node("Softmax", ["c"], ["y"], axis=1)],
                                       [vi("x", [1, 3, 5, 5])], [vi("y", None)], [w]), {"x": rand(1, 3, 5, 5)})
    case("softmax_middle_axis", model([helper.make_node("Softmax", ["x"], ["y"], axis=1)],
                                      [vi("x", [2, 3, 4])], [vi("y", None)]), {"x": rand(2, 3, 4)})
    case("softmax_opset11_axis1", model([conv_node("x", "w", None, "c"), helper.make_node("Softmax", ["c"], ["y"], axis=1)],
                                        [vi("x", [1, 3, 4, 4])], [vi("y", None)], [w], opset=11), {"x": rand(1, 3, 4, 4)})
    case("squeeze_unsqueeze_opset11", model([conv_node("x", "w", None, "c"), helper.make_node("GlobalAveragePool", ["c"], ["p"]),
                                             helper.make_node("Squeeze", ["p"], ["s"], axes=[2, 3]),
                                             helper.make_node("Unsqueeze", ["s"], ["y"], axes=[1])],
                                            [vi("x", [1, 3, 4, 4])], [vi("y", None)], [w], opset=11), {"x": rand(1, 3, 4, 4)})
    case("squeeze_unsqueeze_opset13", model([helper.make_node("Unsqueeze", ["x", "ax"], ["u"]),
                                             helper.make_node("Squeeze", ["u", "ax2"], ["y"])],
                                            [vi("x", [2, 1, 3])], [vi("y", None)], [ints("ax", [0, -1]), ints("ax2", [2])]),
         {"x": rand(2, 1, 3)})
    case("reduce_mean", model([helper.make_node("ReduceMean", ["x"], ["y0"], axes=[2, 3], keepdims=0),
                               helper.make_node("ReduceMean", ["x"], ["y1"], axes=[1]),
                               helper.make_node("ReduceMean", ["x"], ["y2"], axes=[-1], keepdims=0)],
                              [vi("x", [1, 4, 5, 6])], [vi("y0", None), vi("y1", None), vi("y2", None)]), {"x": rand(1, 4, 5, 6)})

    # Gather: an embedding (run-time int64 ids), and constant indices into a run-time tensor.
    case("gather_embedding", model([helper.make_node("Gather", ["table", "ids"], ["e"]),
                                    helper.make_node("ReduceMean", ["e"], ["m"], axes=[1], keepdims=0),
                                    helper.make_node("Gemm", ["m", "fw"], ["y"], transB=1)],
                                   [vi("ids", [2, 5], TensorProto.INT64)], [vi("y", None)],
                                   [init("table", rand(10, 4)), init("fw", rand(3, 4))]),
         {"ids": rng.integers(0, 10, (2, 5)).astype(np.int64)})
    case("gather_last_step", model([helper.make_node("Gather", ["x", "idx"], ["y"], axis=1)],
                                   [vi("x", [2, 5, 6])], [vi("y", None)], [init("idx", np.int64(-1))]), {"x": rand(2, 5, 6)})
    case("gather_channels_nchw", model([conv_node("x", "w", None, "c"), helper.make_node("Gather", ["c", "idx"], ["y"], axis=1)],
                                       [vi("x", [1, 3, 5, 5])], [vi("y", None)], [w, ints("idx", [3, 0])]), {"x": rand(1, 3, 5, 5)})
    case("slice_steps", model([helper.make_node("Slice", ["x", "st", "en", "ax", "sp"], ["y"])],
                              [vi("x", [2, 5, 6])], [vi("y", None)],
                              [ints("st", [1, 5]), ints("en", [4, -100]), ints("ax", [1, 2]), ints("sp", [1, -2])]),
         {"x": rand(2, 5, 6)})

    # Recurrent ops (ONNX gate orders; PyTorch-like biases and states).
    def lstm_case(name, T, B, I, H, direction="forward", layout=0, states="none", outputs=("Y", "Y_h"), gru=False, opset=14):
        # ORT 1.19 has no batch-first (layout = 1) recurrent ops: their expected outputs come from
        # ORT running the layout-0 twin on transposed inputs, transposed back.
        dirs = 2 if direction == "bidirectional" else 1
        G = 3 if gru else 4
        weights = [init("W", rand(dirs, G * H, I, scale=0.5)), init("R", rand(dirs, G * H, H, scale=0.5)),
                   init("B", rand(dirs, 2 * G * H, scale=0.3))]
        x = rand(T, B, I)
        state_vals = {s: rand(dirs, B, H, scale=0.5) for s in (["h0"] if gru else ["h0", "c0"])}

        def build(lay):
            inits = list(weights)
            inputs = ["x", "W", "R", "B", ""]
            graph_inputs = [vi("x", [T, B, I] if lay == 0 else [B, T, I])]
            feeds = {"x": x if lay == 0 else x.transpose(1, 0, 2).copy()}
            for s, v in state_vals.items():
                v = v if lay == 0 else v.transpose(1, 0, 2).copy()
                if states == "const":
                    inits.append(init(s, v))
                    inputs.append(s)
                elif states == "input":
                    graph_inputs.append(vi(s, list(v.shape)))
                    feeds[s] = v
                    inputs.append(s)
            attrs = {"hidden_size": H, "direction": direction}
            if lay:
                attrs["layout"] = 1
            if gru:
                attrs["linear_before_reset"] = 1
            outs = [o if o in outputs else "" for o in ("Y", "Y_h")]
            while outs and not outs[-1]:
                outs.pop()
            node = helper.make_node("GRU" if gru else "LSTM", inputs, outs)
            node.attribute.extend(helper.make_attribute(k, v) for k, v in attrs.items())
            return model([node], graph_inputs, [vi(o, None) for o in outputs], inits, opset=opset), feeds

        m, feeds = build(layout)
        expected = None
        if layout == 1:
            m0, feeds0 = build(0)
            expected = [v.transpose(2, 0, 1, 3) if o == "Y" else v.transpose(1, 0, 2)
                        for o, v in zip(outputs, run_ort(m0, feeds0))]
        case(name, m, feeds, expected)

    lstm_case("lstm_forward", 5, 2, 3, 4)
    lstm_case("lstm_bidirectional_state_inputs", 4, 2, 3, 5, direction="bidirectional", states="input")
    lstm_case("lstm_batch_first_const_states", 4, 3, 2, 3, layout=1, states="const", outputs=("Y",))
    lstm_case("lstm_batch_first_bidirectional_yh", 3, 2, 3, 4, direction="bidirectional", layout=1, outputs=("Y_h",))
    lstm_case("gru_forward", 5, 2, 3, 4, gru=True)
    lstm_case("gru_bidirectional_const_states", 4, 1, 3, 3, direction="bidirectional", states="const", gru=True)

    # Graph plumbing: Constant nodes, Identity, Dropout, Cast, a dynamic batch dimension.
    nodes = [helper.make_node("Constant", [], ["k"], value=init("kv", rand(3, 1, 1))), helper.make_node("Identity", ["x"], ["i"]),
             helper.make_node("Dropout", ["i"], ["d"]), helper.make_node("Cast", ["d"], ["c"], to=F),
             helper.make_node("Add", ["c", "k"], ["a"]), helper.make_node("Constant", [], ["two"], value_float=2.0),
             helper.make_node("Mul", ["a", "two"], ["y"])]
    case("constant_identity_dropout_cast", model(nodes, [vi("x", [1, 3, 4, 4])], [vi("y", None)]), {"x": rand(1, 3, 4, 4)})
    case("dynamic_batch_mlp", model([helper.make_node("Flatten", ["x"], ["f"]), helper.make_node("Gemm", ["f", "w1", "b1"], ["h"], transB=1),
                                     helper.make_node("Relu", ["h"], ["r"]), helper.make_node("Gemm", ["r", "w2", "b2"], ["y"], transB=1)],
                                    [vi("x", ["N", 1, 4, 4])], [vi("y", None)],
                                    [init("w1", rand(8, 16, scale=0.3)), init("b1", rand(8)), init("w2", rand(3, 8)), init("b2", rand(3))]),
         {"x": rand(3, 1, 4, 4)})


# ---- error cases -------------------------------------------------------------------------------
def make_errors():
    x = [vi("x", [1, 3, 8, 8])]
    y = [vi("y", None)]
    w = init("w", rand(4, 3, 3, 3))
    error("op_unsupported", model([helper.make_node("Erf", ["x"], ["y"], name="the_erf")], x, y))
    error("attribute_unknown", model([helper.make_node("Relu", ["x"], ["y"], name="r", color="blue")], x, y))
    error("pad_reflect", model([helper.make_node("Pad", ["x", "p"], ["y"], mode="reflect")], x, y, [ints("p", [0, 0, 1, 1, 0, 0, 1, 1])]))
    error("pad_nonzero_value", model([helper.make_node("Pad", ["x", "p", "v"], ["y"])], x, y,
                                     [ints("p", [0, 0, 1, 1, 0, 0, 1, 1]), init("v", np.float32(1))]))
    error("maxpool_asymmetric_pads", model([helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])], x, y))
    error("maxpool_dilations", model([helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], dilations=[2, 2])], x, y))
    error("maxpool_indices_used", model([helper.make_node("MaxPool", ["x"], ["y", "idx"], kernel_shape=[2, 2])], x,
                                        y + [vi("idx", None, TensorProto.INT64)]))
    error("avgpool_ceil_partial", model([helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)], x, y))
    error("avgpool_exclude_pad_asymmetric", model([helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], pads=[0, 0, 2, 2])], x, y))
    error("conv_transpose_3x3", model([helper.make_node("ConvTranspose", ["x", "wt"], ["y"], strides=[2, 2])], x, y, [init("wt", rand(3, 4, 3, 3))]))
    error("conv1d", model([helper.make_node("Conv", ["x", "w1"], ["y"])], [vi("x", [1, 3, 8])], y, [init("w1", rand(4, 3, 3))]))
    error("conv_runtime_weights", model([helper.make_node("Conv", ["x", "wx"], ["y"])], x + [vi("wx", [4, 3, 3, 3])], y))
    error("div_runtime", model([helper.make_node("Div", ["x", "x2"], ["y"])], x + [vi("x2", [1, 3, 8, 8])], y))
    error("cast_to_int", model([helper.make_node("Cast", ["x"], ["y"], to=TensorProto.INT32)], x, y))
    error("dropout_mask_used", model([helper.make_node("Dropout", ["x"], ["y", "mask"])], x, y + [vi("mask", None, TensorProto.BOOL)]))
    error("batchnorm_training", model([helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], training_mode=1)], x, y,
                                      [init(n, np.ones(3, np.float32)) for n in "sbmv"], opset=15))
    error("gather_runtime_ids_axis1", model([helper.make_node("Gather", ["t", "ids"], ["y"], axis=1)], [vi("ids", [2], TensorProto.INT64)], y,
                                            [init("t", rand(4, 5))]))
    lstm_in = [vi("x", [4, 1, 3])]
    lw = [init("W", rand(1, 16, 3)), init("R", rand(1, 16, 4))]
    error("lstm_clip", model([helper.make_node("LSTM", ["x", "W", "R"], ["y"], hidden_size=4, clip=3.0)], lstm_in, y, lw))
    error("lstm_activations", model([helper.make_node("LSTM", ["x", "W", "R"], ["y"], hidden_size=4,
                                                      activations=["Sigmoid", "Relu", "Tanh"])], lstm_in, y, lw))
    error("lstm_reverse", model([helper.make_node("LSTM", ["x", "W", "R"], ["y"], hidden_size=4, direction="reverse")], lstm_in, y, lw))
    error("lstm_yc_used", model([helper.make_node("LSTM", ["x", "W", "R"], ["", "", "y"], hidden_size=4)], lstm_in, y, lw))
    error("lstm_peepholes", model([helper.make_node("LSTM", ["x", "W", "R", "", "", "", "", "P"], ["y"], hidden_size=4)], lstm_in, y,
                                  lw + [init("P", np.ones((1, 12), np.float32))]))
    error("gru_linear_before_reset_0", model([helper.make_node("GRU", ["x", "W", "R"], ["y"], hidden_size=4)], lstm_in, y,
                                             [init("W", rand(1, 12, 3)), init("R", rand(1, 12, 4))]))
    error("dynamic_inner_dim", model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", ["N", 3, "H", 8])], y))
    error("input_without_shape", model([helper.make_node("Relu", ["x"], ["y"])], [helper.make_tensor_value_info("x", F, None)], y))
    error("opset_10", model([helper.make_node("Relu", ["x"], ["y"])], x, y, opset=10))
    error("undefined_input", model([helper.make_node("Relu", ["nowhere"], ["y"], name="lost")], x, y))
    error("custom_domain", model([helper.make_node("Foo", ["x"], ["y"], domain="com.example")], x, y))
    ext = init("wx", rand(4, 3, 3, 3))
    ext.data_location = TensorProto.EXTERNAL
    ext.ClearField("raw_data")
    ext.external_data.add(key="location", value="weights.bin")
    error("external_data", model([conv_node("x", "wx", None, "y")], x, y, [ext]))
    bad = init("wb", rand(4, 3, 3, 3))
    bad.raw_data = bad.raw_data[:-4]
    error("initializer_truncated_raw", model([conv_node("x", "wb", None, "y")], x, y, [bad]))
    error("reshape_runtime_shape", model([helper.make_node("Reshape", ["x", "s"], ["y"])], x + [vi("s", [2], TensorProto.INT64)], y))


def main():
    for d in (CASES, ERRORS):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    make_cases()
    make_errors()
    total = sum(os.path.getsize(os.path.join(r, f)) for base in (CASES, ERRORS) for r, _, fs in os.walk(base) for f in fs)
    print(f"{len(os.listdir(CASES))} cases, {len(os.listdir(ERRORS))} error models, {total} bytes")


if __name__ == "__main__":
    main()
