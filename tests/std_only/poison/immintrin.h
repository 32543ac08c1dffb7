// Poison for tests/std_only: first on that target's include path, so that any use of this header
// from include/ptq/core/ or include/ptq/kernels/reference/ stops the build here.
#error "ptq std-only poison: <immintrin.h> was included. x86 intrinsics belong to per-ISA kernel files. core/ and kernels/reference/ must compile with the standard library alone; move SIMD code to simd/ or kernels/ (see ARCHITECTURE.md)."
