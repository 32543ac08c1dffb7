// dispatch.hpp: which ISA level ptq's kernels use: compiled ∩ detected ∩ the user's choice.
//
// One selected level per process, read once; a user or a test can lower it in three ways:
//   - the environment:   PTQ_ISA=avx2 ./app       (name of a level, see isa_name())
//   - code, for a scope: ptq::ScopedIsaOverride o(ptq::Isa::kSse41);
//   - per call:          every kernel entry point takes an optional `Isa` argument.
// A requested level the CPU cannot run falls back to the best runnable level it implies (for
// kAvx512Vnni on an AVX2-only CPU that is kAvx2), so a forced level never faults.
#pragma once

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "ptq/simd/arch.hpp"

PTQ_NAMESPACE_BEGIN

// The best runnable level among those `requested` implies (requested itself if runnable).
inline Isa best_runnable_isa_within(Isa requested) {
  const uint32_t allowed = isa_implied(requested) & runnable_isa_mask();
  for (Isa isa : kAllIsas)
    if (allowed & isa_bit(isa)) return isa;
  return Isa::kScalar;
}

namespace detail {

inline Isa isa_from_environment() {
  Isa best = Isa::kScalar;
  for (Isa isa : kAllIsas) {
    if (isa_runnable(isa)) {
      best = isa;
      break;
    }
  }
  const char* env = std::getenv("PTQ_ISA");
  if (env == nullptr || *env == '\0') return best;
  Isa requested = Isa::kScalar;
  if (!parse_isa(env, &requested)) {
    std::fprintf(stderr,
                 "ptq: PTQ_ISA=%s is not a known ISA (expected one of: %s); using %s\n", env,
                 isa_mask_to_string(~0u).c_str(), isa_name(best));
    return best;
  }
  const Isa chosen = best_runnable_isa_within(requested);
  if (chosen != requested) {
    std::fprintf(stderr, "ptq: PTQ_ISA=%s cannot run on this CPU; using %s\n", env,
                 isa_name(chosen));
  }
  return chosen;
}

inline Isa environment_isa() {
  static const Isa isa = isa_from_environment();
  return isa;
}

// 0 = no override; otherwise isa_bit() of the overriding level.
inline std::atomic<uint32_t>& isa_override_slot() {
  static std::atomic<uint32_t> slot{0};
  return slot;
}

}  // namespace detail

// The level kernels use when the caller does not pass one.
inline Isa selected_isa() {
  const uint32_t o = detail::isa_override_slot().load(std::memory_order_relaxed);
  return o != 0 ? static_cast<Isa>(o) : detail::environment_isa();
}

// Forces a level for the lifetime of the object (process-wide; restore on destruction). Meant for
// tests and benchmarks; the forced level is clamped to what the CPU can run.
class ScopedIsaOverride {
 public:
  explicit ScopedIsaOverride(Isa isa)
      : previous_(detail::isa_override_slot().exchange(isa_bit(best_runnable_isa_within(isa)))) {}
  ~ScopedIsaOverride() { detail::isa_override_slot().store(previous_); }
  ScopedIsaOverride(const ScopedIsaOverride&) = delete;
  ScopedIsaOverride& operator=(const ScopedIsaOverride&) = delete;

 private:
  uint32_t previous_;
};

PTQ_NAMESPACE_END
