"""AVX-512 quantize / dequantize / requantize and float16 kernels, executed in an emulated CPU
(BochsCPU), against the scalar reference executed natively, bit for bit. For hosts whose CPU lacks
AVX-512 (ctest runs it as emu.avx512_kernels).

    python3 tests/emu/test_quantize_emu.py [--cpu sapphire_rapids] [--rounds N] [--source-dir DIR]

Exit code 77 (ctest SKIP_RETURN_CODE) when bochscpu-python is not installed.
"""
from __future__ import annotations

import argparse
import ctypes
import math
import os
import random
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bochs_runner  # noqa: E402

SKIP = 77
LENGTHS = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 100, 1001]
TYPES = {  # name: (ctype, qmin, qmax)
    "i8": (ctypes.c_int8, -128, 127),
    "u8": (ctypes.c_uint8, 0, 255),
    "i16": (ctypes.c_int16, -32768, 32767),
    "i32": (ctypes.c_int32, -2**31, 2**31 - 1),
}
GUEST_FLAGS = ["-std=c++17", "-O2", "-DNDEBUG", "-DPTQ_EMU_GUEST", "-fno-exceptions", "-fno-rtti",
               "-ffreestanding", "-nostdlib", "-static", "-no-pie", "-fno-pic", "-fno-asynchronous-unwind-tables",
               "-fno-stack-protector", "-fno-tree-loop-distribute-patterns", "-Wl,--build-id=none", "-Wl,-e,0"]
HOST_FLAGS = ["-std=c++17", "-O2", "-DNDEBUG", "-shared", "-fPIC"]


def build(src_dir: str, out_dir: str):
    cxx = os.environ.get("CXX", "c++")
    inc = "-I" + os.path.join(src_dir, "include")
    src = os.path.join(HERE, "kernels.cpp")
    guest = os.path.join(out_dir, "guest.elf")
    host = os.path.join(out_dir, "host.so")
    subprocess.run([cxx, *GUEST_FLAGS, inc, "-o", guest, src], check=True)
    subprocess.run([cxx, *HOST_FLAGS, inc, "-o", host, src], check=True)
    return guest, ctypes.CDLL(host)


class Runner:
    def __init__(self, guest: bochs_runner.Guest, host):
        self.g, self.h = guest, host
        self.passed = self.failed = 0
        self.elements = 0
        self.first_failures = []

    def compare(self, what: str, fn: str, n: int, in_bytes: bytes, in_size: int, out_size: int, params: bytes,
                offset: int, out_fill: int = 0xA5):
        """Run `fn(in, out, n, params)` natively (reference) and in the guest (AVX-512); compare the
        whole output buffer plus 64 guard bytes, so masked tails that write too far are caught."""
        g, h = self.g, self.h
        guard = 64
        out_len = n * out_size + guard
        ref_in = ctypes.create_string_buffer(in_bytes, len(in_bytes) + 1)
        ref_out = ctypes.create_string_buffer(bytes([out_fill]) * out_len, out_len)
        ref_p = ctypes.create_string_buffer(params, len(params))
        getattr(h, fn)(ref_in, ref_out, ctypes.c_size_t(n), ref_p)
        g.reset_arena()
        gin = g.put(in_bytes, offset=offset * in_size)
        gout = g.put(bytes([out_fill]) * out_len, offset=offset * out_size)
        gp = g.put(params)
        g.call(fn, gin, gout, n, gp)
        got = g.read(gout, out_len)
        want = ref_out.raw[:out_len]
        self.elements += n
        if got == want:
            self.passed += 1
            return
        self.failed += 1
        if len(self.first_failures) < 10:
            i = next(j for j in range(out_len) if got[j] != want[j])
            self.first_failures.append(f"{what} n={n} offset={offset}: first differing byte {i} "
                                       f"(element {i // out_size}): got {got[i]:#04x}, want {want[i]:#04x}")


def qparams(h, scale: float, zp: int) -> bytes:
    buf = ctypes.create_string_buffer(h.sizeof_quant_params())
    h.make_quant_params(ctypes.c_float(scale), ctypes.c_int32(zp), buf)
    return buf.raw


def rqparams(h, in_s, in_zp, out_s, out_zp, single) -> bytes:
    buf = ctypes.create_string_buffer(h.sizeof_requantize_params())
    h.make_requantize_params(ctypes.c_float(in_s), ctypes.c_int32(in_zp), ctypes.c_float(out_s),
                             ctypes.c_int32(out_zp), ctypes.c_int(single), buf)
    return buf.raw


def random_zero_point(rng: random.Random, t: str) -> int:
    _c, lo, hi = TYPES[t]
    r = rng.randrange(4)
    if r == 0:
        return lo
    if r == 1:
        return hi
    if r == 2:
        return 0 if t == "i16" else (lo + hi + 1) // 2
    return rng.randint(lo, hi)


def random_scale(rng: random.Random, lo_exp: int = -14, n_exps: int = 20) -> float:
    return math.ldexp(1.0 + rng.randrange(4096) / 4096.0, rng.randrange(n_exps) + lo_exp)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpu", default="sapphire_rapids")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--source-dir", default=os.path.normpath(os.path.join(HERE, "..", "..")))
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    try:
        bochs_runner.import_bochscpu()
    except bochs_runner.EmulatorUnavailable as e:
        print(f"SKIP: bochscpu-python unavailable ({e})")
        return SKIP
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        guest_elf, h = build(args.source_dir, tmp)
        g = bochs_runner.Guest(guest_elf, cpu_model=args.cpu)
        print(f"emulated CPU: {g.check_cpu_model()}; build {time.perf_counter() - t0:.1f} s")
        r = Runner(g, h)
        t1 = time.perf_counter()
        for t in ("i8", "u8", "i16"):
            ct = TYPES[t][0]
            sz = ctypes.sizeof(ct)
            for _ in range(args.rounds):
                scale = random_scale(rng)
                p = qparams(h, scale, random_zero_point(rng, t))
                for n in LENGTHS:
                    off = rng.randrange(3)
                    xs = (ctypes.c_float * max(n, 1))()
                    h.tricky_floats(ctypes.c_uint32(rng.getrandbits(32)), ctypes.c_float(scale), xs, ctypes.c_size_t(n))
                    r.compare(f"quantize<{t}>", f"quantize_{t}", n, bytes(xs)[:4 * n], 4, sz, p, off)
                    qs = bytes(rng.getrandbits(8) for _ in range(n * sz))
                    r.compare(f"dequantize<{t}>", f"dequantize_{t}", n, qs, sz, 4, p, off)
        for _ in range(args.rounds):  # int32 dequantize goes through double
            p = qparams(h, random_scale(rng, -20, 30), random_zero_point(rng, "i32"))
            for n in LENGTHS:
                qs = bytes(rng.getrandbits(8) for _ in range(4 * n))
                r.compare("dequantize<i32>", "dequantize_i32", n, qs, 4, 4, p, rng.randrange(3))
        # Per-axis along the innermost axis: per-lane scales and zero points, row tails of every size.
        for t in ("i8", "u8", "i16"):
            sz = ctypes.sizeof(TYPES[t][0])
            for channels in (1, 3, 15, 16, 17, 33, 64):
                rows = rng.randrange(1, 5)
                n = rows * channels
                scales = [random_scale(rng, -8, 8) for _ in range(channels)]
                zps = [random_zero_point(rng, t) for _ in range(channels)]
                p = struct.pack(f"<QQ{channels}f{channels}i", rows, channels, *scales, *zps)
                xs = (ctypes.c_float * max(n, 1))()
                h.tricky_floats(ctypes.c_uint32(rng.getrandbits(32)), ctypes.c_float(0.1), xs, ctypes.c_size_t(n))
                r.compare(f"quantize_rows<{t}> {rows}x{channels}", f"quantize_rows_{t}", n, bytes(xs)[:4 * n], 4, sz, p,
                          rng.randrange(3))
                qs = bytes(rng.getrandbits(8) for _ in range(n * sz))
                r.compare(f"dequantize_rows<{t}> {rows}x{channels}", f"dequantize_rows_{t}", n, qs, sz, 4, p,
                          rng.randrange(3))
        # float16: random bit patterns (NaN payloads, subnormals, overflow) both ways.
        for _ in range(args.rounds):
            for n in LENGTHS:
                fs = bytes(rng.getrandbits(8) for _ in range(4 * n))
                r.compare("float_to_half", "float_to_half", n, fs, 4, 2, b"", rng.randrange(3))
                hs = bytes(rng.getrandbits(8) for _ in range(2 * n))
                r.compare("half_to_float", "half_to_float", n, hs, 2, 4, b"", rng.randrange(3))
        pairs = [("i8", "i8"), ("i8", "u8"), ("u8", "i8"), ("i32", "i8"), ("i32", "u8"), ("i32", "i16")]
        for tin, tout in pairs:
            isz, osz = ctypes.sizeof(TYPES[tin][0]), ctypes.sizeof(TYPES[tout][0])
            for _ in range(args.rounds):
                for single in (0, 1):
                    # As tests/kernels/quantize_test.cpp: multipliers 2^-30 .. 2^8; int32 inputs have zero point 0.
                    p = rqparams(h, random_scale(rng, -25, 30), 0 if tin == "i32" else random_zero_point(rng, tin),
                                 random_scale(rng, -8, 10), random_zero_point(rng, tout), single)
                    for n in LENGTHS:
                        xs = bytes(rng.getrandbits(8) for _ in range(n * isz))
                        r.compare(f"requantize<{tin},{tout}> ({'single' if single else 'double'})",
                                  f"requantize_{tin}_{tout}", n, xs, isz, osz, p, rng.randrange(3))
        run_s = time.perf_counter() - t1
        # Cost per element, measured once with the per-instruction hook.
        g.reset_arena()
        n = 1 << 20
        xs = g.alloc(4 * n)
        h.tricky_floats(ctypes.c_uint32(1), ctypes.c_float(0.05), buf := (ctypes.c_float * n)(), ctypes.c_size_t(n))
        g.write(xs, bytes(buf))
        qs = g.alloc(n)
        pp = g.put(qparams(h, 0.05, 3))
        g.call("quantize_i8", xs, qs, 4096, pp, count_instructions=True)
        per_elem = g.last_insns / 4096
        g.call("quantize_i8", xs, qs, n, pp)
        mips = per_elem * n / g.last_seconds / 1e6
        big_s = g.last_seconds
    for f in r.first_failures:
        print("FAIL:", f)
    print(f"{r.passed + r.failed} comparisons over {r.elements} elements in {run_s:.1f} s; "
          f"quantize<int8>: {per_elem:.2f} guest instructions/element; {n} elements in {big_s:.2f} s "
          f"= {mips:.1f} M guest instructions/s")
    print(f"{r.passed} passed, {r.failed} failed")
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
