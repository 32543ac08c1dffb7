#!/usr/bin/env bash
# run_aarch64.sh: build ptq's test executables for AArch64 and run them under QEMU user-mode
# emulation: the ctest test `cross.aarch64` (tests/CMakeLists.txt), or by hand:
#
#   tests/cross/run_aarch64.sh [source-dir] [build-dir]      (default: this tree, build/aarch64)
#
# A separate build with cmake/toolchains/aarch64-linux-gnu.cmake, only the test targets, then:
#   1. ctest inside it: every doctest case, run by `qemu-aarch64 -cpu max` (NEON + SDOT, so the
#      for_each_isa coverage checks exercise both Isa::kNeon and Isa::kNeonDot);
#   2. the GEMM tests again with PTQ_ISA=neon (the plain NEON kernels as the selected level);
#   3. the GEMM and dispatch tests on `-cpu cortex-a53` (ARMv8.0, no SDOT): the binaries are
#      built for baseline armv8-a, so this proves SDOT is reached only through run-time dispatch.
# Exits 77 (ctest: skipped) when the cross compiler or QEMU is missing.
# Environment: PTQ_CROSS_JOBS (default 2), PTQ_CROSS_BUILD_TYPE (default Release),
# PTQ_CROSS_TARGETS (default: the four test executables).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="${1:-$(cd "${here}/../.." && pwd)}"
build="${2:-${src}/build/aarch64}"
jobs="${PTQ_CROSS_JOBS:-2}"
build_type="${PTQ_CROSS_BUILD_TYPE:-Release}"
read -r -a targets <<<"${PTQ_CROSS_TARGETS:-ptq_tests ptq_reference_tests ptq_gemm_tests ptq_conv_tests ptq_pool_tests}"
sysroot=/usr/aarch64-linux-gnu

missing=()
command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || missing+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64 >/dev/null 2>&1 || missing+=(qemu-user)
[[ -d "${sysroot}/include" ]] || missing+=(libc6-dev-arm64-cross)
if ((${#missing[@]})); then
  echo "cross.aarch64: skipped: missing ${missing[*]}; install with scripts/install-deps.sh" \
       "(or: apt-get install g++-aarch64-linux-gnu qemu-user)"
  exit 77
fi

generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
start=${SECONDS}
cmake -S "${src}" -B "${build}" "${generator[@]}" \
  -DCMAKE_TOOLCHAIN_FILE="${src}/cmake/toolchains/aarch64-linux-gnu.cmake" \
  -DCMAKE_BUILD_TYPE="${build_type}" \
  -DPTQ_BUILD_TESTS=ON -DPTQ_BUILD_BENCH=OFF -DPTQ_BUILD_EXAMPLES=OFF -DPTQ_BUILD_TOOLS=OFF -DPTQ_INSTALL=OFF >/dev/null
cmake --build "${build}" -j "${jobs}" --target "${targets[@]}"
echo "cross.aarch64: built in $((SECONDS - start)) s"

# Only the suites built above: not the packaging or emulator tests of the host build, and not the
# placeholders doctest registers for executables that were not built.
exclude='^(packaging|emu|cross)\.|_NOT_BUILT'
ctest --test-dir "${build}" -j "${jobs}" -E "${exclude}" --output-on-failure --no-tests=error

qemu=(qemu-aarch64 -L "${sysroot}")
echo "cross.aarch64: GEMM tests with PTQ_ISA=neon"
PTQ_ISA=neon "${qemu[@]}" -cpu max "${build}/tests/ptq_gemm_tests" --minimal
echo "cross.aarch64: GEMM and dispatch tests on cortex-a53 (no SDOT)"
"${qemu[@]}" -cpu cortex-a53 "${build}/tests/ptq_gemm_tests" --minimal
"${qemu[@]}" -cpu cortex-a53 "${build}/tests/ptq_tests" --minimal -tc='dispatch*'
echo "cross.aarch64: passed in $((SECONDS - start)) s"
