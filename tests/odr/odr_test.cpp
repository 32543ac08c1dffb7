// Two TUs of one binary include the same ptq headers with different -m flags. Each must keep its
// own copy of every inline function (distinct symbols in ISA-keyed namespaces), so the baseline TU
// can never end up running the copy compiled for a wider ISA, whatever the link order.
#include <doctest/doctest.h>

#include "odr/tu.hpp"
#include "ptq/simd/arch.hpp"

TEST_SUITE("simd") {
TEST_CASE("odr: TUs built with different ISA flags keep separate copies of ptq") {
  const TuReport base = report_baseline_tu();
  MESSAGE("baseline TU: namespace " << base.abi_namespace << ", generic arch " << base.generic_arch);
#if !defined(__SSE4_1__) && !defined(__AVX2__)  // our presets build tests for baseline x86-64
  CHECK(base.abi_namespace == "isa_sse2");
  CHECK(base.generic_arch == "sse2");
#endif
  CHECK(base.generic_matches_reference);
  if (!ptq::cpu_features().avx2 || !ptq::cpu_features().fma || !ptq::cpu_features().f16c) {
    MESSAGE("skipped: the AVX2 TU needs an AVX2 CPU");
    return;
  }
  const TuReport wide = report_avx2_tu();
  MESSAGE("AVX2 TU: namespace " << wide.abi_namespace << ", generic arch " << wide.generic_arch);
  CHECK(wide.abi_namespace != base.abi_namespace);
  CHECK(wide.generic_arch.find("avx2") != std::string::npos);
  CHECK(wide.generic_matches_reference);
  // The decisive check: one function template, one instantiation, two distinct symbols.
  CHECK(base.reference_symbol != wide.reference_symbol);
}
}
