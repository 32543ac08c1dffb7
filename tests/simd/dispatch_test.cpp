// ISA levels: detection, selection, override; and that a baseline build reaches the CPU's best.
#include <doctest/doctest.h>

#include <cstring>

#include "ptq/simd/dispatch.hpp"

TEST_SUITE("simd") {
TEST_CASE("dispatch: names round-trip and every level implies the scalar reference") {
  for (ptq::Isa isa : ptq::kAllIsas) {
    ptq::Isa parsed = ptq::Isa::kScalar;
    REQUIRE(ptq::parse_isa(ptq::isa_name(isa), &parsed));
    CHECK(parsed == isa);
    CHECK((ptq::isa_implied(isa) & ptq::isa_bit(ptq::Isa::kScalar)) != 0);
    CHECK((ptq::isa_implied(isa) & ptq::isa_bit(isa)) != 0);
  }
  ptq::Isa x = ptq::Isa::kScalar;
  CHECK_FALSE(ptq::parse_isa("avx1024", &x));
  CHECK(ptq::parse_isa("reference", &x));
  CHECK(x == ptq::Isa::kScalar);
  // AVX-512 VNNI does not imply AVX-VNNI (Ice Lake has one and not the other)
  CHECK((ptq::isa_implied(ptq::Isa::kAvx512Vnni) & ptq::isa_bit(ptq::Isa::kAvxVnni)) == 0);
}

TEST_CASE("dispatch: detection agrees with the CPU's feature bits") {
  const ptq::CpuFeatures& f = ptq::cpu_features();
  MESSAGE("runnable ISA levels: " << ptq::isa_mask_to_string(ptq::runnable_isa_mask()));
  CHECK(ptq::isa_runnable(ptq::Isa::kScalar));
#if defined(__x86_64__)
  CHECK(ptq::isa_runnable(ptq::Isa::kAvx2) == (f.avx2 && f.fma && f.f16c && f.os_avx && f.sse41));
  CHECK(ptq::isa_runnable(ptq::Isa::kAvx512Vnni) ==
        (ptq::isa_runnable(ptq::Isa::kAvx512) && f.avx512vnni));
  // levels are nested: a CPU that runs a level runs everything it implies
  for (ptq::Isa isa : ptq::runnable_isas()) {
    CHECK((ptq::isa_implied(isa) & ~ptq::runnable_isa_mask()) == 0);
  }
#endif
  (void)f;
}

TEST_CASE("dispatch: the selected level is the best runnable one, without -march") {
  // This test binary is compiled for baseline x86-64: reaching AVX2 or AVX-512 here proves the
  // run-time dispatch, not the compiler flags, picks the kernels.
  const char* env = std::getenv("PTQ_ISA");
  if (env != nullptr && *env != '\0') {
    MESSAGE("PTQ_ISA=" << env << " is set: checking it is honoured");
    ptq::Isa requested = ptq::Isa::kScalar;
    REQUIRE(ptq::parse_isa(env, &requested));
    CHECK(ptq::selected_isa() == ptq::best_runnable_isa_within(requested));
    return;
  }
  CHECK(ptq::selected_isa() == ptq::runnable_isas().front());
#if defined(__x86_64__)
  if (ptq::cpu_features().avx2) CHECK(ptq::isa_bit(ptq::selected_isa()) >= ptq::isa_bit(ptq::Isa::kAvx2));
#endif
}

TEST_CASE("dispatch: overrides are scoped and clamped to what the CPU runs") {
  const ptq::Isa before = ptq::selected_isa();
  {
    ptq::ScopedIsaOverride o(ptq::Isa::kScalar);
    CHECK(ptq::selected_isa() == ptq::Isa::kScalar);
    {
      ptq::ScopedIsaOverride inner(ptq::Isa::kAvx512Vnni);
      CHECK(ptq::isa_runnable(ptq::selected_isa()));
      CHECK(ptq::selected_isa() == ptq::best_runnable_isa_within(ptq::Isa::kAvx512Vnni));
    }
    CHECK(ptq::selected_isa() == ptq::Isa::kScalar);
  }
  CHECK(ptq::selected_isa() == before);
  // a level the CPU lacks falls back along what it implies, never to something it does not imply
  for (ptq::Isa isa : ptq::kAllIsas) {
    const ptq::Isa got = ptq::best_runnable_isa_within(isa);
    CHECK(ptq::isa_runnable(got));
    CHECK((ptq::isa_implied(isa) & ptq::isa_bit(got)) != 0);
  }
}
}
