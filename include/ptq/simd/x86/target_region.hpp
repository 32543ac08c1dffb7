// x86/target_region.hpp: open and close a region of code compiled for one x86 level.
//
// Every function defined between PTQ_X86_BEGIN_REGION(...) and PTQ_X86_END_REGION gets the
// level's target attribute (GCC: push_options + target; clang: attribute push). That is what lets
// an algorithm written once (an "-inl.hpp" file, re-included per level in that level's namespace)
// inline the level's intrinsics, Highway-style, in a TU built for baseline x86-64.
#pragma once

#define PTQ_X86_PRAGMA(x) _Pragma(#x)

#if defined(__clang__)
#define PTQ_X86_BEGIN_REGION(targets) \
  PTQ_X86_PRAGMA(clang attribute push(__attribute__((target(targets))), apply_to = function))
#define PTQ_X86_END_REGION PTQ_X86_PRAGMA(clang attribute pop)
#else
#define PTQ_X86_BEGIN_REGION(targets) \
  PTQ_X86_PRAGMA(GCC push_options)    \
  PTQ_X86_PRAGMA(GCC target(targets))
#define PTQ_X86_END_REGION PTQ_X86_PRAGMA(GCC pop_options)
#endif

// The feature lists of each level (kept equal to the PTQ_TARGET_* attributes in simd/arch.hpp).
#define PTQ_X86_TARGETS_SSE41 "sse4.1,ssse3"
#define PTQ_X86_TARGETS_AVX2 "avx2,fma,f16c,bmi2"
#define PTQ_X86_TARGETS_AVXVNNI "avx2,fma,f16c,bmi2,avxvnni"
#define PTQ_X86_TARGETS_AVX512 "avx512f,avx512bw,avx512vl,avx512dq,avx512cd,avx2,fma,f16c,bmi2"
#define PTQ_X86_TARGETS_AVX512VNNI \
  "avx512f,avx512bw,avx512vl,avx512dq,avx512cd,avx512vnni,avx2,fma,f16c,bmi2"

// GCC 12 warns falsely (-Wuninitialized / -Wmaybe-uninitialized) inside its own avx512fintrin.h,
// whose intrinsics start from _mm512_undefined_*(), once they are inlined at -O2. The warning is
// in GCC's header, not in ptq: silence exactly these two, only around AVX-512 regions, only there.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#define PTQ_X86_BEGIN_AVX512_WARNINGS          \
  PTQ_X86_PRAGMA(GCC diagnostic push)          \
  PTQ_X86_PRAGMA(GCC diagnostic ignored "-Wuninitialized") \
  PTQ_X86_PRAGMA(GCC diagnostic ignored "-Wmaybe-uninitialized")
#define PTQ_X86_END_AVX512_WARNINGS PTQ_X86_PRAGMA(GCC diagnostic pop)
#else
#define PTQ_X86_BEGIN_AVX512_WARNINGS
#define PTQ_X86_END_AVX512_WARNINGS
#endif
