"""Smoke test of the emulator itself: CPUID, one AVX-512 add, EVEX and VEX vpdpbusd, and the speed.

    python3 tests/emu/smoke.py [--cpu sapphire_rapids]
"""
from __future__ import annotations

import argparse
import os
import random
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bochs_runner  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FREESTANDING = ["-O2", "-ffreestanding", "-nostdlib", "-static", "-no-pie", "-fno-pic",
                "-fno-asynchronous-unwind-tables", "-fno-stack-protector", "-Wl,--build-id=none",
                "-Wl,-e,0"]


def build(out_dir: str) -> str:
    elf = os.path.join(out_dir, "guest_smoke.elf")
    subprocess.run([os.environ.get("CC", "cc"), *FREESTANDING, "-o", elf, os.path.join(HERE, "guest_smoke.c")],
                   check=True)
    return elf


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpu", default="sapphire_rapids", choices=sorted(bochs_runner.CPU_MODELS))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        g = bochs_runner.Guest(build(tmp), cpu_model=args.cpu)
    print(f"emulated CPU: {g.check_cpu_model()}")
    _a, b, c, _d = g.cpuid(7, 0)
    a1 = g.cpuid(7, 1)[0]
    feats = {"avx512f": b >> 16 & 1, "avx512dq": b >> 17 & 1, "avx512bw": b >> 30 & 1, "avx512vl": b >> 31 & 1,
             "avx512vnni": c >> 11 & 1, "avxvnni": a1 >> 4 & 1}
    print("CPUID:", " ".join(f"{k}={v}" for k, v in feats.items()))
    print(f"XGETBV(0) in the guest: {g.call('xgetbv0'):#x}")

    rng = random.Random(1)
    passed = failed = 0

    def check(name, ok):
        nonlocal passed, failed
        print(f"{name}: {'ok' if ok else 'MISMATCH'}")
        passed += bool(ok)
        failed += not ok

    def run(fn, *a):
        try:
            g.call(fn, *a)
            return True
        except bochs_runner.GuestFault as e:
            print(f"{fn}: {e}")
            return False

    g.reset_arena()
    A = [rng.randint(-2**31, 2**31 - 1) for _ in range(16)]
    B = [rng.randint(-2**31, 2**31 - 1) for _ in range(16)]
    pa, pb, po = g.put(struct.pack("<16i", *A)), g.put(struct.pack("<16i", *B)), g.alloc(64)
    if run("add_epi32", pa, pb, po):
        check("vpaddd zmm", list(struct.unpack("<16i", g.read(po, 64))) ==
              [(x + y + 2**31) % 2**32 - 2**31 for x, y in zip(A, B)])
    for fn, lanes in (("dpbusd512", 16), ("dpbusd256_vex", 8)):
        g.reset_arena()
        acc = [rng.randint(-10**6, 10**6) for _ in range(lanes)]
        ua = bytes(rng.randrange(256) for _ in range(4 * lanes))
        sb = bytes(rng.randrange(256) for _ in range(4 * lanes))
        p1, p2, p3, p4 = g.put(struct.pack(f"<{lanes}i", *acc)), g.put(ua), g.put(sb), g.alloc(4 * lanes)
        if run(fn, p1, p2, p3, p4):
            s8 = struct.unpack(f"<{4 * lanes}b", sb)
            want = [acc[i] + sum(ua[4 * i + j] * s8[4 * i + j] for j in range(4)) for i in range(lanes)]
            check(f"{fn} (vpdpbusd)", list(struct.unpack(f"<{lanes}i", g.read(p4, 4 * lanes))) == want)
        else:
            failed += 1

    # Speed: the loop is 6 instructions per iteration (2 vector ops, asm barrier-free inc/cmp/jne...);
    # count them once with the (slow) per-instruction hook, then time without it.
    g.reset_arena()
    out = g.alloc(64)
    if feats["avx512f"]:
        g.call("spin", 1000, out, count_instructions=True)
        per_iter = g.last_insns / 1000
        n = 2_000_000
        g.call("spin", n, out)
        print(f"speed: {per_iter * n / g.last_seconds / 1e6:.1f} M instructions/s "
              f"({per_iter:.0f} instructions per iteration, {n} iterations in {g.last_seconds:.2f} s)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
