// tu.hpp: what each translation unit of the ODR test reports about the ptq it compiled.
#pragma once

#include <cstdint>
#include <string>

struct TuReport {
  std::string abi_namespace;     // PTQ_ABI_NAMESPACE as compiled in that TU
  std::string generic_arch;      // xsimd's default arch in that TU (what Isa::kGeneric runs)
  const void* reference_symbol;  // address of ptq::reference::quantize<int8_t> in that TU
  bool generic_matches_reference;
};

TuReport report_baseline_tu();
TuReport report_avx2_tu();  // compiled with -mavx2 -mfma -mf16c: call only on an AVX2 CPU
