"""The int8 GEMM microkernels this host's CPU may lack (AVX-512 VNNI, AVX-VNNI, AVX-512BW), run by
the GEMM front end's panel walk inside an emulated CPU (BochsCPU), against reference::fully_connected
(and fully_connected_accumulators) executed natively, bit for bit. Weights are packed on the host
(gemm::pack_weights for the kernel's layout) and the packed bytes copied into the guest.

    python3 tests/emu/test_gemm_emu.py --cpu sapphire_rapids [--kernels NAME,...] [--count-instructions]

The walk is gemm_test.cpp's at a smaller scale: K in {1, 3, 4, 5, 63, 64, 65, 257}, every M in
1..MR+1, N in {1, NR-1, NR, NR+1, 2NR+3}, odd row strides and unaligned inputs, extreme zero points,
saturation, clamps, positive shifts, no bias, both rounding modes, per tensor and per channel, K
across the K-block and large enough to stress int32 accumulation, M across the M-block; every output
byte (int8 and int32 forms) plus the stride gaps and 64 guard bytes past the output are compared.

Exit code 77 (ctest SKIP_RETURN_CODE) when bochscpu-python is not installed.
"""
from __future__ import annotations

import argparse
import ctypes
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
GUEST_FLAGS = ["-std=c++17", "-O2", "-DNDEBUG", "-DPTQ_EMU_GUEST", "-fno-rtti", "-ffreestanding", "-nostdlib",
               "-static", "-no-pie", "-fno-pic", "-fno-asynchronous-unwind-tables", "-fno-stack-protector",
               "-fno-tree-loop-distribute-patterns", "-Wall", "-Wextra", "-Werror", "-Wl,--build-id=none",
               "-Wl,-e,0"]
HOST_FLAGS = ["-std=c++17", "-O2", "-DNDEBUG", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror"]
# Which kernels each emulated CPU runs (its level must be one the CPU has).
CPU_KERNELS = {
    "sapphire_rapids": ["avx512vnni", "avxvnni", "avx512bw"],
    "tigerlake": ["avx512vnni", "avx512bw"],
    "corei7_icelake_u": ["avx512vnni", "avx512bw"],
    "corei7_skylake_x": ["avx512bw"],
    "corei3_cnl": ["avx512bw"],
    "arrow_lake": ["avxvnni"],
}
SENTINEL8 = 0x5A
SENTINEL32 = 0x5A5A5A5A
GUARD = 64


class CaseSpec(ctypes.Structure):
    _fields_ = [("kernel", ctypes.c_int64), ("m", ctypes.c_int64), ("k", ctypes.c_int64), ("n", ctypes.c_int64),
                ("in_pad", ctypes.c_int64), ("out_pad", ctypes.c_int64),
                ("x_zp", ctypes.c_int32), ("y_zp", ctypes.c_int32), ("act_min", ctypes.c_int32),
                ("act_max", ctypes.c_int32), ("per_channel", ctypes.c_int32), ("single_rounding", ctypes.c_int32),
                ("values", ctypes.c_int32), ("bias", ctypes.c_int32), ("seed", ctypes.c_uint32),
                ("gain", ctypes.c_double)]


class CaseData(ctypes.Structure):
    _fields_ = [("input", ctypes.c_void_p), ("input_bytes", ctypes.c_int64),
                ("weights", ctypes.c_void_p), ("weight_bytes", ctypes.c_int64),
                ("ints", ctypes.c_void_p), ("int_count", ctypes.c_int64),
                ("want8", ctypes.c_void_p), ("want8_bytes", ctypes.c_int64),
                ("want32", ctypes.c_void_p), ("want32_count", ctypes.c_int64),
                ("in_stride", ctypes.c_int64), ("out_stride", ctypes.c_int64), ("n_pad", ctypes.c_int64),
                ("nontrivial", ctypes.c_int64)]


def _newest_source(src_dir: str) -> float:
    newest = os.path.getmtime(os.path.join(HERE, "gemm_kernels.cpp"))
    for root, _dirs, files in os.walk(os.path.join(src_dir, "include")):
        for f in files:
            newest = max(newest, os.path.getmtime(os.path.join(root, f)))
    return newest


def build(src_dir: str, out_dir: str):
    """Guest ELF and host library, rebuilt only when a header or this test's source changed (the
    three ctest CPU models share one build directory; outputs are replaced atomically)."""
    cxx = os.environ.get("CXX", "c++")
    inc = "-I" + os.path.join(src_dir, "include")
    src = os.path.join(HERE, "gemm_kernels.cpp")
    os.makedirs(out_dir, exist_ok=True)
    guest = os.path.join(out_dir, "gemm_guest.elf")
    host = os.path.join(out_dir, "gemm_host.so")
    newest = _newest_source(src_dir)
    for out, flags in ((guest, GUEST_FLAGS), (host, HOST_FLAGS)):
        if os.path.exists(out) and os.path.getmtime(out) > newest:
            continue
        tmp = f"{out}.{os.getpid()}"
        subprocess.run([cxx, *flags, inc, "-o", tmp, src], check=True)
        os.replace(tmp, out)
    h = ctypes.CDLL(host)
    h.host_make_case.argtypes = [ctypes.POINTER(CaseSpec), ctypes.c_int8, ctypes.c_int32, ctypes.POINTER(CaseData)]
    h.host_make_call.argtypes = [ctypes.c_int64] * 3 + [ctypes.c_uint64] * 4 + [ctypes.c_void_p]
    h.gemm_kernel_info.argtypes = [ctypes.c_int64, ctypes.POINTER(ctypes.c_int64), ctypes.c_char_p, ctypes.c_int64]
    h.gemm_kernel_count.restype = h.sizeof_gemm_call.restype = ctypes.c_int64
    h.sizeof_case_spec.restype = h.sizeof_case_data.restype = ctypes.c_int64
    assert h.sizeof_case_spec() == ctypes.sizeof(CaseSpec), "CaseSpec layout"
    assert h.sizeof_case_data() == ctypes.sizeof(CaseData), "CaseData layout"
    return guest, h


class Kernel:
    def __init__(self, h, index: int):
        info = (ctypes.c_int64 * 4)()
        name = ctypes.create_string_buffer(96)
        h.gemm_kernel_info(index, info, name, 96)
        self.index, self.name = index, name.value.decode()
        self.mr, self.nr, self.kr, self.u8 = info[0], info[1], info[2], info[3]
        self.level = self.name.split("__")[1].split("_")[0]  # avx512vnni, avxvnni, avx512bw


class Runner:
    def __init__(self, g: bochs_runner.Guest, h):
        self.g, self.h = g, h
        self.passed = self.failed = self.vacuous = 0
        self.macs = 0
        self.failures = []

    def case(self, kernel: Kernel, m: int, k: int, n: int, *, in_pad=0, out_pad=0, x_zp=3, y_zp=-5, act=(-128, 127),
             per_channel=True, single=False, values=0, bias=True, gain=1.0, seed=12345, in_offset=0,
             outputs=(False, True)):
        g, h = self.g, self.h
        spec = CaseSpec(kernel.index, m, k, n, in_pad, out_pad, x_zp, y_zp, act[0], act[1], int(per_channel),
                        int(single), values, int(bias), seed & 0xFFFFFFFF, gain)
        d = CaseData()
        if h.host_make_case(ctypes.byref(spec), ctypes.c_int8(SENTINEL8 - 256 if SENTINEL8 > 127 else SENTINEL8),
                            SENTINEL32, ctypes.byref(d)) != 0:
            raise RuntimeError("host_make_case: invalid parameters")
        what = (f"{kernel.name} M={m} K={k} N={n} strides+{in_pad}/{out_pad} x_zp={x_zp} y_zp={y_zp} act={act} "
                f"{'per-channel' if per_channel else 'per-tensor'} {'single' if single else 'double'} "
                f"values={values} bias={bias} gain={gain}")
        if not d.nontrivial:
            self.vacuous += 1
            self.failures.append(f"{what}: the expected outputs are all equal (vacuous case)")
        inp = ctypes.string_at(d.input, d.input_bytes)
        weights = ctypes.string_at(d.weights, d.weight_bytes)
        ints = ctypes.string_at(d.ints, 4 * d.int_count)
        want8 = ctypes.string_at(d.want8, d.want8_bytes) + bytes([SENTINEL8]) * GUARD
        want32 = ctypes.string_at(d.want32, 4 * d.want32_count) + struct.pack("<I", SENTINEL32) * (GUARD // 4)
        for int32_output in outputs:
            want = want32 if int32_output else want8
            g.reset_arena()
            gin = g.put(inp, offset=in_offset)
            gw = g.put(weights)
            gi = g.put(ints)
            fill = struct.pack("<I", SENTINEL32) * (len(want) // 4) if int32_output else bytes([SENTINEL8]) * len(want)
            gout = g.put(fill)
            call = ctypes.create_string_buffer(h.sizeof_gemm_call())
            h.host_make_call(kernel.index, m, int(int32_output), gin, gw, gi, gout, call)
            gc = g.put(call.raw)
            rc = g.call("gemm_run", gc)
            got = g.read(gout, len(want))
            self.macs += m * k * n
            if rc == 0 and got == want:
                self.passed += 1
                continue
            self.failed += 1
            if len(self.failures) < 12:
                if rc != 0:
                    self.failures.append(f"{what}: gemm_run returned {rc}")
                    continue
                size = 4 if int32_output else 1
                i = next(j for j in range(len(want)) if got[j] != want[j]) // size
                row, col = divmod(i, d.out_stride)
                fmt = "<i" if int32_output else "<b"
                gv = struct.unpack_from(fmt, got, i * size)[0]
                wv = struct.unpack_from(fmt, want, i * size)[0]
                where = f"(row {row}, col {col})" if i < m * d.out_stride else f"guard byte {i - m * d.out_stride}"
                self.failures.append(f"{what} {'int32' if int32_output else 'int8'}: first mismatch at {where}: "
                                     f"got {gv} want {wv}")


def walk(r: Runner, kern: Kernel, rng: random.Random) -> None:
    mr, nr = kern.mr, kern.nr
    zps = [-128, 127, 0, 3, -5]
    # Shapes: K below, at and above the group; every partial M tile; N partial, full, over.
    i = 0
    for k in (1, 3, 4, 5, 63, 64, 65, 257):
        for m in range(1, mr + 2):
            for n in (1, nr - 1, nr, nr + 1, 2 * nr + 3):
                i += 1
                r.case(kern, m, k, n, in_pad=i % 3, out_pad=(i // 3) % 2, x_zp=rng.choice(zps), y_zp=rng.choice(zps),
                       per_channel=bool(i & 1), single=bool(i & 2), in_offset=i % 4, seed=rng.getrandbits(32),
                       gain=0.5 + rng.random())
    # Zero points, saturation, clamps, positive shifts, no bias: both roundings, per tensor and channel.
    for single in (False, True):
        for pc in (True, False):
            def base(**kw):
                args = dict(per_channel=pc, single=single)
                args.update(kw)
                r.case(kern, mr + 1, 29, nr + 3, **args)
            for xzp in (-128, 127, 0):
                for yzp in (-128, 127, 0):
                    base(x_zp=xzp, y_zp=yzp, gain=0.5)
            base(gain=6.0, y_zp=0)
            base(gain=3.0, y_zp=-100, x_zp=127)
            base(act=(-5, 127), y_zp=-5, gain=1.5)
            base(act=(-20, 50), y_zp=10, gain=1.5)
            base(act=(-1, 1), y_zp=0, gain=0.5)
            base(values=1, gain=1.0)
            r.case(kern, mr + 1, 2, nr + 3, per_channel=pc, single=single, values=1, gain=8.0)
            base(bias=False)
    # K across the K-block (16 KiB / NR bytes of panel) and int32 accumulation near INT32_MIN.
    kc = 16384 // nr
    for k in (kc - 1, kc, kc + 5, 2 * kc + 3):
        r.case(kern, mr, k, nr + 1, in_pad=1, single=bool(k & 1), seed=k)
    for single in (False, True):
        r.case(kern, 3, 4096, nr + 1, values=2, x_zp=127, single=single, per_channel=True)
        r.case(kern, 2, 4093, 5, values=2, x_zp=-128, y_zp=127, single=single, per_channel=False, gain=1.2)
    # Several M-blocks (mc = 64 // MR * MR rows) and batch 1 over several panels.
    for m in (2 * mr + 1, 59, 60, 61, 64, 65, 131):
        r.case(kern, m, 19, nr + 1, out_pad=1)
    r.case(kern, 1, 1030, 4 * nr + 1, per_channel=False)


def count_instructions(g: bochs_runner.Guest, h, kern: Kernel, shapes) -> list:
    """Guest instructions per 1024 MACs of the whole GEMM (front end + tiles + output stage), and of
    the microkernel's tile calls alone."""
    out = []
    for m, k, n in shapes:
        spec = CaseSpec(kern.index, m, k, n, 0, 0, 3, -5, -128, 127, 1, 0, 0, 1, 7, 1.0)
        d = CaseData()
        h.host_make_case(ctypes.byref(spec), ctypes.c_int8(SENTINEL8), SENTINEL32, ctypes.byref(d))
        g.reset_arena()
        gin = g.put(ctypes.string_at(d.input, d.input_bytes))
        gw = g.put(ctypes.string_at(d.weights, d.weight_bytes))
        gi = g.put(ctypes.string_at(d.ints, 4 * d.int_count))
        gout = g.alloc(d.want8_bytes + GUARD)
        call = ctypes.create_string_buffer(h.sizeof_gemm_call())
        h.host_make_call(kern.index, m, 0, gin, gw, gi, gout, call)
        gc = g.put(call.raw)
        g.call("gemm_run", gc, count_instructions=True)
        total = g.last_insns
        ok = g.read(gout, d.want8_bytes) == ctypes.string_at(d.want8, d.want8_bytes)
        g.call("gemm_tiles_only", gc, count_instructions=True)
        macs = m * k * n
        out.append((m, k, n, total, total * 1024 / macs, g.last_insns * 1024 / macs, ok))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpu", default="sapphire_rapids")
    ap.add_argument("--kernels", default="", help="comma-separated levels (avx512vnni,avxvnni,avx512bw); "
                                                  "default: every kernel the CPU model runs")
    ap.add_argument("--source-dir", default=os.path.normpath(os.path.join(HERE, "..", "..")))
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--build-dir", default="", help="where the guest and host builds are kept (default: a "
                                                    "temporary directory)")
    ap.add_argument("--count-instructions", default="",
                    help="shapes MxKxN,... to count guest instructions per 1024 MACs on (slow)")
    args = ap.parse_args()
    try:
        bochs_runner.import_bochscpu()
    except bochs_runner.EmulatorUnavailable as e:
        print(f"SKIP: bochscpu-python unavailable ({e})")
        return SKIP
    levels = args.kernels.split(",") if args.kernels else CPU_KERNELS[args.cpu]
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        guest_elf, h = build(args.source_dir, args.build_dir or tmp)
        g = bochs_runner.Guest(guest_elf, cpu_model=args.cpu, arena_bytes=16 << 20)
        print(f"emulated CPU: {g.check_cpu_model()}; build {time.perf_counter() - t0:.1f} s")
        kernels = [Kernel(h, i) for i in range(h.gemm_kernel_count())]
        selected = [k for k in kernels if k.level in levels]
        if len(selected) != len(levels):
            print(f"FAIL: levels {levels} not all found among {[k.name for k in kernels]}")
            return 1
        r = Runner(g, h)
        for kern in selected:
            t1 = time.perf_counter()
            before = (r.passed, r.failed)
            if args.count_instructions:
                shapes = [tuple(int(v) for v in s.split("x")) for s in args.count_instructions.split(",")]
                for m, k, n, insns, per1024, tiles1024, ok in count_instructions(g, h, kern, shapes):
                    print(f"{kern.name} {m}x{k}x{n}: {insns} guest instructions, {per1024:.2f} per 1024 MACs "
                          f"(microkernel alone {tiles1024:.2f}){'' if ok else ' (OUTPUT MISMATCH)'}")
                    if not ok:
                        r.failed += 1
                continue
            walk(r, kern, rng)
            print(f"{kern.name} ({kern.mr}x{kern.nr}c{kern.kr}{', u8 activations' if kern.u8 else ''}): "
                  f"{r.passed - before[0]} passed, {r.failed - before[1]} failed in {time.perf_counter() - t1:.1f} s")
    for f in r.failures:
        print("FAIL:", f)
    print(f"{r.passed} passed, {r.failed} failed, {r.vacuous} vacuous; {r.macs / 1e6:.1f} M MACs emulated; "
          f"total {time.perf_counter() - t0:.1f} s")
    return 1 if r.failed or r.vacuous else 0


if __name__ == "__main__":
    sys.exit(main())
