// arm/target_region.hpp: open and close a region of code compiled for the ARMv8.2 dot-product
// level (Isa::kNeonDot: SDOT/UDOT), the AArch64 counterpart of x86/target_region.hpp.
//
// Plain NEON (Isa::kNeon) is part of every AArch64 baseline and needs no region. SDOT does not:
// a binary built for baseline armv8-a reaches it through this region and run-time dispatch
// (arch.hpp reads HWCAP_ASIMDDP), exactly like AVX-512 VNNI on baseline x86-64.
//
// Why `arch=armv8.2-a+dotprod` and not `+dotprod`: GCC's arm_neon.h defines vdotq_* under
// `#pragma GCC target ("arch=armv8.2-a+dotprod")`, and an always_inline intrinsic inlines only into
// a function with at least its features, so the region names the same architecture. A TU already
// built with dot product (-march=armv8.4-a or later, or +dotprod) gets an empty region: its own
// flags are a superset, and narrowing them would stop intrinsics declared under them from inlining.
// Consequence: a TU built for an armv8.2/8.3 extension set without +dotprod (say armv8.2-a+fp16)
// cannot inline its own extra-feature helpers into the region; ptq's region code calls only NEON
// intrinsics, which is what this contract needs.
#pragma once

#define PTQ_ARM_PRAGMA(x) _Pragma(#x)

#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
#define PTQ_ARM_HAVE_NEONDOT 1
#define PTQ_ARM_BEGIN_NEONDOT_REGION
#define PTQ_ARM_END_NEONDOT_REGION
#elif defined(__aarch64__) && defined(__clang__)
#define PTQ_ARM_HAVE_NEONDOT 1
#define PTQ_ARM_BEGIN_NEONDOT_REGION \
  PTQ_ARM_PRAGMA(clang attribute push(__attribute__((target("dotprod"))), apply_to = function))
#define PTQ_ARM_END_NEONDOT_REGION PTQ_ARM_PRAGMA(clang attribute pop)
#elif defined(__aarch64__) && defined(__GNUC__)
#define PTQ_ARM_HAVE_NEONDOT 1
#define PTQ_ARM_BEGIN_NEONDOT_REGION \
  PTQ_ARM_PRAGMA(GCC push_options)   \
  PTQ_ARM_PRAGMA(GCC target("arch=armv8.2-a+dotprod"))
#define PTQ_ARM_END_NEONDOT_REGION PTQ_ARM_PRAGMA(GCC pop_options)
#else
#define PTQ_ARM_HAVE_NEONDOT 0
#define PTQ_ARM_BEGIN_NEONDOT_REGION
#define PTQ_ARM_END_NEONDOT_REGION
#endif
