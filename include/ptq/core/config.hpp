// config.hpp: the macros every ptq header relies on (namespace, checks, numerics guard).
//
// Why an ISA-keyed inline namespace: ptq is header-only and multi-ISA. An inline function compiled
// in two translation units with different -m flags is two different definitions under one mangled
// name; the linker keeps one copy, chosen by link order, and a baseline TU can end up running the
// AVX-512 copy (SIGILL on an older CPU). Every ptq entity therefore lives in
// `ptq::PTQ_ABI_NAMESPACE`, named after the TU's compile-time ISA baseline, so TUs built with
// different flags never share a symbol. Users who build every TU with the same flags see nothing
// of this; users who mix flags get distinct copies (or a link error if they pass ptq types across
// the boundary), never a silent SIGILL.
//
// This header is standard-library only: core/ and kernels/reference/ may be vendored alone.
#pragma once

#include <cstdio>
#include <cstdlib>

#if defined(__FAST_MATH__)
#error "ptq: -ffast-math breaks the bit-exact contract (NaN handling, rounding, reassociation). Build TUs that include ptq without it."
#endif

// ---- ISA-keyed inline namespace -------------------------------------------------------------
#if defined(__AVX512BW__) && defined(__AVX512VL__)
#define PTQ_ABI_NAMESPACE isa_avx512bw
#elif defined(__AVX2__)
#define PTQ_ABI_NAMESPACE isa_avx2
#elif defined(__SSE4_1__)
#define PTQ_ABI_NAMESPACE isa_sse41
#elif defined(__SSE2__) || defined(_M_X64)
#define PTQ_ABI_NAMESPACE isa_sse2
#elif defined(__ARM_FEATURE_DOTPROD)
#define PTQ_ABI_NAMESPACE isa_neondot
#elif defined(__ARM_NEON) || defined(__aarch64__)
#define PTQ_ABI_NAMESPACE isa_neon
#else
#define PTQ_ABI_NAMESPACE isa_base
#endif

#define PTQ_NAMESPACE_BEGIN \
  namespace ptq {           \
  inline namespace PTQ_ABI_NAMESPACE {
#define PTQ_NAMESPACE_END \
  }                       \
  }

// ---- compiler helpers -----------------------------------------------------------------------
#if defined(__GNUC__) || defined(__clang__)
#define PTQ_RESTRICT __restrict__
#define PTQ_INLINE inline __attribute__((always_inline))
#define PTQ_NOINLINE __attribute__((noinline))
#define PTQ_LIKELY(x) __builtin_expect(!!(x), 1)
#define PTQ_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define PTQ_RESTRICT
#define PTQ_INLINE inline
#define PTQ_NOINLINE
#define PTQ_LIKELY(x) (x)
#define PTQ_UNLIKELY(x) (x)
#endif

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define PTQ_ARCH_X86 1
#else
#define PTQ_ARCH_X86 0
#endif
#if defined(__aarch64__) || defined(__ARM_NEON)
#define PTQ_ARCH_ARM 1
#else
#define PTQ_ARCH_ARM 0
#endif

// ---- preconditions --------------------------------------------------------------------------
// PTQ_DCHECK states a kernel precondition. It is checked in debug builds (NDEBUG not defined) or
// when PTQ_ENABLE_DCHECKS is defined, and costs nothing otherwise. A failed check prints the
// condition and message with file:line and aborts: it marks a caller bug, not bad outside data
// (outside data is validated and reported through ptq::Status).
#if !defined(NDEBUG) || defined(PTQ_ENABLE_DCHECKS)
#define PTQ_DCHECKS_ENABLED 1
#define PTQ_DCHECK(cond, msg)                                                                     \
  do {                                                                                            \
    if (PTQ_UNLIKELY(!(cond))) {                                                                  \
      std::fprintf(stderr, "ptq: precondition failed at %s:%d: %s (%s)\n", __FILE__, __LINE__, \
                   #cond, msg);                                                                   \
      std::abort();                                                                               \
    }                                                                                             \
  } while (0)
#else
#define PTQ_DCHECKS_ENABLED 0
#define PTQ_DCHECK(cond, msg) \
  do {                        \
  } while (0)
#endif
