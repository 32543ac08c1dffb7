#!/usr/bin/env python3
"""LiteRT's own latency on .tflite models, to set beside `ptq bench` (bench/README.md, "TFLite
models: ptq vs LiteRT"). Each model runs on zero inputs (as `ptq bench` does) with one thread and
three kernel sets: xnn (the default, XNNPACK delegate), opt (builtin optimized kernels, no
delegate) and ref (BUILTIN_REF, the reference kernels). Prints the median and minimum of
`invoke()` over --runs timed runs after --warmup untimed ones, in microseconds; the Python call
adds about a microsecond.

  ~/.cache/ptq/tf-venv/bin/python tools/tflite_fixtures/bench_litert.py MODEL.tflite ... [--runs 2000]
"""
import argparse
import statistics
import sys
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+")
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--kernels", nargs="*", default=["xnn", "opt", "ref"])
    a = ap.parse_args()
    from ai_edge_litert import interpreter as L
    kinds = {"ref": L.OpResolverType.BUILTIN_REF, "opt": L.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
             "xnn": L.OpResolverType.BUILTIN}
    for path in a.models:
        row = [path]
        for k in a.kernels:
            it = L.Interpreter(model_path=path, experimental_op_resolver_type=kinds[k], num_threads=1)
            it.allocate_tensors()
            for d in it.get_input_details():
                it.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
            for _ in range(a.warmup):
                it.invoke()
            t = []
            invoke = it.invoke
            for _ in range(a.runs):
                t0 = time.perf_counter_ns()
                invoke()
                t.append((time.perf_counter_ns() - t0) / 1000.0)
            row.append(f"{k} median {statistics.median(t):.1f} us min {min(t):.1f} us")
        print(" | ".join(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
