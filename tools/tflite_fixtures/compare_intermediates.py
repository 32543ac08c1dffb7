#!/usr/bin/env python3
"""Compares every intermediate tensor of the int16x8 fixtures between ptq and LiteRT's reference kernels.

    PTQ_INT16_DUMP_DIR=/tmp/ptq16 ./build/dev/tests/ptq_int16_tests -tc='*16x8 fixtures*'
    ~/.cache/ptq/tf-venv/bin/python tools/tflite_fixtures/compare_intermediates.py /tmp/ptq16

Run by hand (the tests need no Python). For each model it runs LiteRT with OpResolverType.BUILTIN_REF
and experimental_preserve_all_tensors on the committed input, matches tensors by name, and prints,
per tensor, the element count and how many elements differ (exact comparison).
"""
import os
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "io", "tflite", "fixtures")


def main(dump_dir):
    total = differing = tensors = 0
    for model in sorted(os.listdir(dump_dir)):
        names = {}
        with open(os.path.join(dump_dir, model, "names.txt")) as f:
            for line in f:
                tid, name = line.rstrip("\n").split(" ", 1)
                names[name] = os.path.join(dump_dir, model, tid + ".npy")
        it = Interpreter(model_path=os.path.join(FIXTURES, model + ".tflite"),
                         experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                         experimental_preserve_all_tensors=True)
        it.allocate_tensors()
        it.set_tensor(it.get_input_details()[0]["index"], np.load(os.path.join(FIXTURES, model + ".in0.npy")))
        it.invoke()
        for t in it.get_tensor_details():
            if t["name"] not in names:
                continue
            want = it.get_tensor(t["index"])
            got = np.load(names[t["name"]])
            if got.shape != want.shape or got.dtype != want.dtype:
                print(f"{model}: {t['name']}: {got.dtype}{got.shape} vs LiteRT {want.dtype}{want.shape}")
                differing += 1
                continue
            g = np.ascontiguousarray(got).reshape(-1).view(np.uint8).reshape(got.size, -1)
            w = np.ascontiguousarray(want).reshape(-1).view(np.uint8).reshape(want.size, -1)
            d = int(np.count_nonzero((g != w).any(axis=1)))  # elements whose bytes differ
            tensors += 1
            total += got.size
            differing += d
            print(f"{model}: {t['name'][:60]:60s} {str(got.dtype):8s} {got.size:6d} elements, {d} differ")
    print(f"{tensors} tensors, {total} elements, {differing} differing")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
