#!/usr/bin/env bash
# install-deps.sh: the Debian 12 packages ptq needs to build and test it; the one list of them.
#
#   scripts/install-deps.sh          compiler, CMake, Ninja, pkg-config, xsimd, doctest, Google Benchmark,
#                                    ONNX's protobuf library (the optional importer ptq::onnx and its tests),
#                                    and the CPU emulator the tests use to run AVX-512 / VNNI kernels on
#                                    machines without them (bochscpu-python from PyPI, in a venv under
#                                    ~/.cache/ptq/emu-venv; test tooling only, never a library dependency)
#   scripts/install-deps.sh --cross  ... and the AArch64 cross compiler + QEMU user mode (ctest --preset
#                                    cross; the test skips itself without them)
#   scripts/install-deps.sh --bench  ... and the peers the benchmarks compare against
#                                    (oneDNN, XNNPACK, OpenBLAS)
#   scripts/install-deps.sh --no-emu ... without the emulator (its test then reports itself skipped)
#
# Runs apt-get directly as root, through sudo otherwise. Non-interactive: safe in CI without stdin.
set -euo pipefail

packages=(g++ cmake ninja-build pkg-config libxsimd-dev doctest-dev libbenchmark-dev python3 python3-venv
          libonnx-dev libprotobuf-dev protobuf-compiler python3-onnx python3-numpy)
emu_requirement="bochscpu-python==0.4.0"
emu_venv="${HOME}/.cache/ptq/emu-venv"
bench_packages=(libdnnl-dev libxnnpack-dev libopenblas-dev)
cross_packages=(g++-aarch64-linux-gnu qemu-user)

usage() {
  sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

with_bench=0
with_cross=0
with_emu=1
for arg in "$@"; do
  case "$arg" in
    --bench) with_bench=1 ;;
    --cross) with_cross=1 ;;
    --no-emu) with_emu=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install-deps.sh: unknown argument '$arg'" >&2; usage >&2; exit 2 ;;
  esac
done
if ((with_bench)); then
  packages+=("${bench_packages[@]}")
fi
if ((with_cross)); then
  packages+=("${cross_packages[@]}")
fi

if [[ "$(id -u)" -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps.sh: needs root, or sudo, to run apt-get" >&2
  exit 1
fi

# sudo resets the environment, so DEBIAN_FRONTEND goes through env.
apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
"${apt[@]}" update </dev/null
"${apt[@]}" install -y --no-install-recommends "${packages[@]}" </dev/null

if ((with_emu)); then
  # Debian's python3 refuses system-wide pip installs (PEP 668): a venv of our own, as the user.
  if [[ ! -x "${emu_venv}/bin/python" ]]; then
    /usr/bin/python3 -m venv "${emu_venv}"
  fi
  "${emu_venv}/bin/python" -m pip install --quiet --disable-pip-version-check "${emu_requirement}" </dev/null
  echo "install-deps.sh: emulator ready (${emu_requirement} in ${emu_venv})"
fi
