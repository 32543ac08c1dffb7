// isa_coverage.hpp: run a check on every ISA level the CPU has, and prove which variants ran.
//
// ruy's lesson: "accidentally disabling SIMD paths ... is one of the biggest performance
// regressions imaginable". for_each_isa() runs the body once per runnable level; the variants the
// family resolved to are collected, and the test fails unless every variant the family has among
// the runnable levels was exercised. Levels the CPU cannot run are reported as visible skips.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>
#include <string>

#include "ptq/simd/dispatch.hpp"

namespace ptq_test {

// True in sanitized builds (PTQ_SANITIZED=ON defines PTQ_TEST_SANITIZED): tests shrink their sweeps.
#if defined(PTQ_TEST_SANITIZED)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

// `family` lists, independently of the code under test, the levels that have their own kernel in
// the family; `variant_of` is the family's dispatch map (e.g. ptq::quantize_variant). Each
// runnable level in `family` must map to itself and be exercised.
template <class VariantOf, class Body>
void for_each_isa(uint32_t family, VariantOf variant_of, Body body) {
  const uint32_t expected = family & ptq::runnable_isa_mask();
  uint32_t covered = 0;
  for (ptq::Isa isa : ptq::kAllIsas) {
    if (!ptq::isa_runnable(isa)) {
      static uint32_t reported = 0;  // once per process: ctest runs each test case in its own
      if ((ptq::compiled_isas() & ptq::isa_bit(isa)) && !(reported & ptq::isa_bit(isa))) {
        reported |= ptq::isa_bit(isa);
        MESSAGE("skipped: " << std::string(ptq::isa_name(isa)) << " is not supported by this CPU");
      }
      continue;
    }
    const std::string isa_name = ptq::isa_name(isa);
    CAPTURE(isa_name);
    body(isa);
    covered |= ptq::isa_bit(variant_of(isa));
  }
  INFO("covered variants: " << ptq::isa_mask_to_string(covered));
  CHECK(covered == expected);
  for (ptq::Isa isa : ptq::kAllIsas) {
    if (expected & ptq::isa_bit(isa)) CHECK_MESSAGE(variant_of(isa) == isa, ptq::isa_name(isa));
  }
}

inline uint32_t isa_mask(std::initializer_list<ptq::Isa> isas) {
  uint32_t m = 0;
  for (ptq::Isa i : isas) m |= ptq::isa_bit(i);
  return m;
}

}  // namespace ptq_test
