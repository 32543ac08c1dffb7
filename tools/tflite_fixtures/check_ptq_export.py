#!/usr/bin/env python3
"""Round trip of ptq-CONVERTED models through LiteRT: the bundled float Fashion-MNIST models
(models/fashion_mnist/{cnn,mlp}.onnx) are converted by the `ptq` tool to full-integer .tflite
files (int8 I/O and float I/O), run in LiteRT with its three kernel sets on the first N evaluation
images, and LiteRT's outputs are stored beside the models. ptq_model_tests
(tests/io/tflite_export_test.cpp) then runs ptq's interpreter on the same .tflite files and
inputs and compares bit for bit, without Python.

  ~/.cache/ptq/tf-venv/bin/python tools/tflite_fixtures/check_ptq_export.py \
      --ptq build/dev/tools/ptq                       # the committed CNN -> tests/io/tflite/export
  ~/.cache/ptq/tf-venv/bin/python tools/tflite_fixtures/check_ptq_export.py \
      --ptq build/dev/tools/ptq --models cnn mlp --out /tmp/export
  PTQ_TFLITE_EXPORT_DIR=/tmp/export build/dev/tests/ptq_model_tests -tc='*export*'

Per model <m>_<io> (io: int8 or float): <stem>.tflite, for int8 I/O the quantized inputs
<stem>.in0.npy (int8, [N, 1, 28, 28, 1]; float I/O reads models/fashion_mnist/eval_2000.npy),
and LiteRT's outputs <stem>.<kernels>.out0.npy ([N, 1, 10]) for ref (BUILTIN_REF), opt
(BUILTIN_WITHOUT_DEFAULT_DELEGATES) and xnn (BUILTIN, XNNPACK). manifest.txt lists them with the
image count and where opt/xnn differ from ref. Needs ai-edge-litert and numpy (not TensorFlow).
"""
import argparse
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODELS = os.path.join(ROOT, "models", "fashion_mnist")
KERNELS = ("ref", "opt", "xnn")


def interpreter(path, kernels):
    from ai_edge_litert import interpreter as L
    kind = {"ref": L.OpResolverType.BUILTIN_REF,
            "opt": L.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
            "xnn": L.OpResolverType.BUILTIN}[kernels]
    it = L.Interpreter(model_path=path, experimental_op_resolver_type=kind, num_threads=1)
    it.allocate_tensors()
    return it


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ptq", default=os.path.join(ROOT, "build", "dev", "tools", "ptq"))
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "io", "tflite", "export"))
    ap.add_argument("--models", nargs="*", default=["cnn"])
    ap.add_argument("--count", type=int, default=50)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    images = np.load(os.path.join(MODELS, "eval_2000.npy"))[: a.count]
    manifest = []
    for m in a.models:
        for io in ("int8", "float"):
            stem = f"{m}_{io}"
            path = os.path.join(a.out, stem + ".tflite")
            subprocess.run([a.ptq, "convert", os.path.join(MODELS, m + ".onnx"), "-o", path, "--mode", "int8",
                            "--io", io, "--calib", os.path.join(MODELS, "calib_100.npy"), "--to", "tflite"],
                           check=True, stdout=subprocess.DEVNULL)
            its = {k: interpreter(path, k) for k in KERNELS}
            d = its["ref"].get_input_details()[0]
            xs = images.reshape([a.count] + list(d["shape"]))
            if d["dtype"] == np.int8:
                s, z = d["quantization"]
                xs = np.clip(np.round(xs / s) + z, -128, 127).astype(np.int8)
                np.save(os.path.join(a.out, stem + ".in0.npy"), xs)
            outs = {}
            for k, it in its.items():
                ys = []
                for x in xs:
                    it.set_tensor(it.get_input_details()[0]["index"], x)
                    it.invoke()
                    ys.append(it.get_tensor(it.get_output_details()[0]["index"]).copy())
                outs[k] = np.stack(ys)
                np.save(os.path.join(a.out, f"{stem}.{k}.out0.npy"), outs[k])
            diff = []
            for k in ("opt", "xnn"):
                if not np.array_equal(outs["ref"], outs[k]):
                    n = int(np.sum(outs["ref"] != outs[k]))
                    diff.append(f"{k}:{n}-of-{outs['ref'].size}")
            manifest.append(f"{stem} {a.count} {' '.join(diff) if diff else '-'}")
            top1 = np.argmax(outs["ref"].reshape(a.count, -1), axis=1)
            labels = np.load(os.path.join(MODELS, "eval_labels_2000.npy"))[: a.count]
            print(f"{stem}: {os.path.getsize(path)} bytes, {a.count} images, top-1 {np.mean(top1 == labels):.2f}, "
                  f"{'; '.join(diff) or 'ref == opt == xnn'}")
    with open(os.path.join(a.out, "manifest.txt"), "w") as f:
        f.write("# name images kernel-differences(ref vs opt/xnn: elements)\n" + "\n".join(manifest) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
