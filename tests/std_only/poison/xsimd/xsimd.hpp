// Poison for tests/std_only: first on that target's include path, so that any use of this header
// from include/ptq/core/ or include/ptq/kernels/reference/ stops the build here.
#error "ptq std-only poison: <xsimd/xsimd.hpp> was included. xsimd belongs to ptq/simd and above. core/ and kernels/reference/ must compile with the standard library alone; move SIMD code to simd/ or kernels/ (see ARCHITECTURE.md)."
