# aarch64-linux-gnu.cmake: build ptq for 64-bit ARM Linux with Debian's GNU cross toolchain, and
# run what it builds (ctest, doctest's test discovery) under QEMU user-mode emulation.
#
#   cmake -S . -B build/aarch64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
#
# Needs g++-aarch64-linux-gnu (brings libc6-dev-arm64-cross) and qemu-user: scripts/install-deps.sh.
# tests/cross/run_aarch64.sh drives a whole configure / build / test cycle with this file.
#
# Why `-cpu max`: QEMU's default CPU model lacks FEAT_DotProd; `max` has it (and reports
# HWCAP_ASIMDDP), so both NEON levels (Isa::kNeon, Isa::kNeonDot) run. PTQ_QEMU_CPU overrides it,
# e.g. cortex-a53 for an ARMv8.0 core without SDOT.
#
# Why host-packages/: xsimd and doctest are header-only and the same on every architecture, so the
# host's copies serve. Their host CMake packages would put -isystem /usr/include on the command line,
# in front of the cross compiler's own glibc headers; host-packages/ holds small package files that
# expose a directory containing only the two libraries' headers instead.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(PTQ_CROSS_PREFIX "aarch64-linux-gnu" CACHE STRING "GNU triplet of the cross toolchain")
set(CMAKE_C_COMPILER "${PTQ_CROSS_PREFIX}-gcc")
set(CMAKE_CXX_COMPILER "${PTQ_CROSS_PREFIX}-g++")

# Headers, libraries and packages from the target's tree only; build tools from the host.
set(CMAKE_FIND_ROOT_PATH "/usr/${PTQ_CROSS_PREFIX}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(PTQ_QEMU_CPU "max" CACHE STRING "QEMU CPU model the aarch64 binaries run on")
find_program(PTQ_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static
             DOC "QEMU user-mode emulator for aarch64 (package qemu-user)")
if(PTQ_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR
      "${PTQ_QEMU_AARCH64};-L;/usr/${PTQ_CROSS_PREFIX};-cpu;${PTQ_QEMU_CPU}")
endif()

set(PTQ_HOST_INCLUDE_DIR "/usr/include" CACHE PATH
    "Where the host's header-only xsimd and doctest live (host-packages/)")
set(xsimd_DIR "${CMAKE_CURRENT_LIST_DIR}/host-packages" CACHE PATH "xsimd for the cross build")
set(doctest_DIR "${CMAKE_CURRENT_LIST_DIR}/host-packages" CACHE PATH "doctest for the cross build")
