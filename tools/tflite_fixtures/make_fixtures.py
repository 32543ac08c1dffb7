#!/usr/bin/env python3
"""Builds the .tflite fixtures of ptq's TFLite bit-exactness suite and LiteRT's outputs on them.

Each fixture is a small Keras model with deterministic weights, converted by TensorFlow's
converter (tf.lite.TFLiteConverter) in one post-training mode, plus fixed inputs and LiteRT's
outputs on them from three kernel sets:
  ref  - the reference kernels       (OpResolverType.BUILTIN_REF)
  opt  - the optimized kernels       (OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
  xnn  - the default (XNNPACK) path  (OpResolverType.BUILTIN, i.e. what users get by default)
Everything goes to tests/io/tflite/fixtures/ (see the README there) and is listed in
manifest.txt, which the C++ test (tests/io/tflite_fixture_test.cpp) reads; the test needs no
Python.

  ~/.cache/ptq/tf-venv/bin/python tools/tflite_fixtures/make_fixtures.py            # (re)build
  ~/.cache/ptq/tf-venv/bin/python tools/tflite_fixtures/make_fixtures.py --check    # re-run LiteRT
        on the committed models and compare with the committed outputs (CI's optional step)
  ~/.cache/ptq/tf-venv/bin/python tools/tflite_fixtures/make_fixtures.py --roundtrip DIR
        run the ptq-written models in DIR (ptq_model_tests with PTQ_TFLITE_ROUNDTRIP_DIR=DIR)
        in LiteRT and compare with the committed outputs

--check and --roundtrip need only ai-edge-litert and numpy (not TensorFlow).
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "tests", "io", "tflite", "fixtures")
KERNELS = ("ref", "opt", "xnn")
MODES = ("float", "dynamic", "int8_fio", "int8", "fp16", "int16x8")


def litert_run(model_path, inputs, kernels):
    from ai_edge_litert import interpreter as L
    kind = {"ref": L.OpResolverType.BUILTIN_REF,
            "opt": L.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
            "xnn": L.OpResolverType.BUILTIN}[kernels]
    it = L.Interpreter(model_path=model_path, experimental_op_resolver_type=kind, num_threads=1)
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]).copy() for d in it.get_output_details()]


# ---- Models ------------------------------------------------------------------------------------

def build_models():
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf
    import tf_keras as keras
    L = keras.layers
    keras.utils.set_random_seed(1234)

    def hard_swish(x):
        return x * tf.nn.relu6(x + 3.0) * (1.0 / 6.0)

    models = {}

    # Weights of >= 1024 elements: the converter's dynamic-range mode leaves smaller ones float.
    x = keras.Input((48,), batch_size=2)
    y = L.Dense(32, activation="relu")(x)
    y = L.Dense(5)(y)
    models["dense"] = keras.Model(x, y)

    x = keras.Input((9, 9, 3), batch_size=1)
    y = L.Conv2D(6, 3, padding="same", activation="relu6")(x)
    y = L.Conv2D(24, 3, strides=2, padding="valid")(y)
    y = L.Conv2D(5, 1, activation="relu")(y)
    models["conv"] = keras.Model(x, y)

    x = keras.Input((6, 6, 64), batch_size=1)
    y = L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu")(x)
    y = L.DepthwiseConv2D(3, strides=2, padding="valid")(y)
    models["depthwise"] = keras.Model(x, y)

    x = keras.Input((9, 9, 3), batch_size=1)
    a = L.MaxPooling2D(2, padding="same")(x)
    b = L.AveragePooling2D(3, strides=2, padding="same")(x)
    y = L.Concatenate()([a, b])
    y = L.GlobalAveragePooling2D()(y)
    models["pool"] = keras.Model(x, y)

    x = keras.Input((40,), batch_size=3)
    a = L.Dense(32)(x)
    b = L.Dense(32, activation="tanh")(x)
    c = L.Dense(1, activation="sigmoid")(x)
    y = L.Add()([a, b])
    y = L.Multiply()([y, c])
    y = L.Subtract()([y, b])
    y = L.Softmax()(y)
    models["addmul"] = keras.Model(x, y)

    x = keras.Input((12, 12, 3), batch_size=1)
    y = L.ZeroPadding2D(((1, 0), (1, 0)))(x)
    y = L.Conv2D(8, 3, strides=2, padding="valid")(y)
    y = L.Lambda(hard_swish)(y)
    y = L.DepthwiseConv2D(3, padding="same", activation="relu6")(y)
    y = L.Conv2D(8, 1)(y)
    y = L.LeakyReLU(0.1)(y)
    y = L.GlobalAveragePooling2D()(y)
    y = L.Reshape((2, 4))(y)
    y = L.Permute((2, 1))(y)
    y = L.Flatten()(y)
    y = L.Dense(6)(y)
    y = L.Softmax()(y)
    models["mobile"] = keras.Model(x, y)

    x = keras.Input((4, 32), batch_size=2)   # 32 x 32 per gate: quantized in dynamic mode
    y = L.LSTM(32, return_sequences=True)(x)
    y = L.Dense(3)(y)
    models["lstm"] = keras.Model(x, y)

    a = keras.Input((3, 5), batch_size=2)
    b = keras.Input((5, 4), batch_size=2)
    y = L.Lambda(lambda t: tf.matmul(t[0], t[1]))([a, b])
    models["matmul"] = keras.Model([a, b], y)

    x = keras.Input((6,), batch_size=2, dtype="int32")
    y = L.Embedding(20, 4)(x)
    y = L.Flatten()(y)
    y = L.Dense(3)(y)
    models["embed"] = keras.Model(x, y)

    # Deterministic weights: uniform in a range that keeps activations in a sane range.
    rng = np.random.default_rng(7)
    for m in models.values():
        m.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype(w.dtype) for w in m.get_weights()])
    return models


def sample_inputs(model, rng, n):
    out = []
    for _ in range(n):
        xs = []
        for t in model.inputs:
            shape = [int(d) for d in t.shape]
            if t.dtype.name == "int32":
                xs.append(rng.integers(0, 20, shape).astype(np.int32))
            else:
                xs.append(rng.uniform(-2.0, 2.0, shape).astype(np.float32))
        out.append(xs)
    return out


def convert(model, mode, rep):
    import tensorflow as tf
    c = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode != "float":
        c.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode in ("int8_fio", "int8", "int16x8"):
        c.representative_dataset = lambda: iter(rep)
    if mode == "int8":
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        c.inference_input_type = tf.int8
        c.inference_output_type = tf.int8
    if mode == "fp16":
        c.target_spec.supported_types = [tf.float16]
    if mode == "int16x8":
        c.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    return c.convert()


def model_inputs_for(path, float_inputs):
    """Quantizes the float inputs for a model with integer inputs (int8 mode)."""
    from ai_edge_litert import interpreter as L
    it = L.Interpreter(model_path=path)
    xs = []
    for d, x in zip(it.get_input_details(), float_inputs):
        if d["dtype"] in (np.int8, np.int16) and x.dtype == np.float32:
            s, z = d["quantization"]
            info = np.iinfo(d["dtype"])
            x = np.clip(np.round(x / s) + z, info.min, info.max).astype(d["dtype"])
        xs.append(x.astype(d["dtype"]))
    return xs


def build(only):
    import tensorflow as tf
    os.makedirs(OUT, exist_ok=True)
    models = build_models()
    manifest = []
    skipped = []
    for name, model in models.items():
        if only and name not in only:
            continue
        rng = np.random.default_rng(99)
        rep = sample_inputs(model, np.random.default_rng(11), 24)
        test_in = sample_inputs(model, rng, 1)[0]
        modes = MODES if name not in ("embed", "matmul") else ("float", "dynamic", "int8_fio", "int8")
        if name == "lstm":
            modes = ("float", "dynamic", "int8_fio", "fp16")
        for mode in modes:
            stem = f"{name}_{mode}"
            try:
                blob = convert(model, mode, rep)
            except Exception as e:  # noqa: BLE001 - the converter refuses some combinations
                skipped.append(f"{stem}: converter: {str(e).splitlines()[0][:120]}")
                continue
            path = os.path.join(OUT, stem + ".tflite")
            with open(path, "wb") as f:
                f.write(blob)
            xs = model_inputs_for(path, test_in)
            try:
                outs = {k: litert_run(path, xs, k) for k in KERNELS}
            except Exception as e:  # noqa: BLE001
                skipped.append(f"{stem}: LiteRT: {str(e).splitlines()[0][:120]}")
                os.remove(path)
                continue
            for i, x in enumerate(xs):
                np.save(os.path.join(OUT, f"{stem}.in{i}.npy"), x)
            for k, ys in outs.items():
                for i, y in enumerate(ys):
                    np.save(os.path.join(OUT, f"{stem}.{k}.out{i}.npy"), y)
            diff = []
            for i in range(len(outs["ref"])):
                for k in ("opt", "xnn"):
                    if not np.array_equal(outs["ref"][i], outs[k][i]):
                        a, b = outs["ref"][i].astype(np.float64), outs[k][i].astype(np.float64)
                        diff.append(f"{k}:out{i}:maxdiff={np.max(np.abs(a - b)):.3g}")
            manifest.append(f"{stem} {len(xs)} {len(outs['ref'])} {' '.join(diff) if diff else '-'}")
            print(stem, len(blob), "bytes", "; ".join(diff) or "ref == opt == xnn")
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("# name inputs outputs kernel-differences(ref vs opt/xnn)\n")
        f.write("\n".join(manifest) + "\n")
    with open(os.path.join(OUT, "skipped.txt"), "w") as f:
        f.write("\n".join(skipped) + ("\n" if skipped else ""))
    import ai_edge_litert
    with open(os.path.join(OUT, "versions.txt"), "w") as f:
        f.write(f"python {sys.version.split()[0]}\ntensorflow-cpu {tf.__version__}\n"
                f"ai-edge-litert {getattr(ai_edge_litert, '__version__', '?')}\nnumpy {np.__version__}\n")
    print("skipped:", *skipped, sep="\n  ")


def read_manifest():
    rows = []
    with open(os.path.join(OUT, "manifest.txt")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                stem, nin, nout = line.split()[:3]
                rows.append((stem, int(nin), int(nout)))
    return rows


def compare(models_dir, suffix, kernels):
    """Runs each manifest model found in models_dir in LiteRT; compares with the stored outputs."""
    bad, checked, elems = [], 0, 0
    for stem, nin, nout in read_manifest():
        path = os.path.join(models_dir, stem + suffix)
        if not os.path.exists(path):
            continue
        xs = [np.load(os.path.join(OUT, f"{stem}.in{i}.npy")) for i in range(nin)]
        for k in kernels:
            try:
                ys = litert_run(path, xs, k)
            except Exception as e:  # noqa: BLE001
                bad.append(f"{stem} [{k}]: LiteRT refused the model: {e}")
                continue
            for i in range(nout):
                want = np.load(os.path.join(OUT, f"{stem}.{k}.out{i}.npy"))
                checked += 1
                elems += want.size
                if ys[i].dtype != want.dtype or ys[i].shape != want.shape or not np.array_equal(ys[i], want):
                    bad.append(f"{stem} [{k}] out{i}: differs from the committed output")
    return bad, checked, elems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--roundtrip", metavar="DIR")
    ap.add_argument("--only", nargs="*")
    a = ap.parse_args()
    if a.check or a.roundtrip:
        d, suffix = (OUT, ".tflite") if a.check else (a.roundtrip, ".ptq.tflite")
        bad, checked, elems = compare(d, suffix, KERNELS)
        what = "committed fixtures" if a.check else f"ptq-written models in {d}"
        print(f"LiteRT on the {what}: {checked} output tensors, {elems} elements compared, "
              f"{len(bad)} differences")
        for b in bad:
            print("  " + b)
        if checked == 0:
            print("nothing was compared")
            return 1
        return 1 if bad else 0
    build(a.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
