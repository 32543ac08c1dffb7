// arch.hpp: the instruction sets ptq has kernels for, and what this CPU can run.
//
// The ISA is a value (`Isa`), in the style of ruy's Path: each one is a level that implies a set
// of CPU features, so one test or benchmark can walk every level the machine has. Detection is our
// own CPUID + XGETBV (xsimd 8.1 neither reads VNNI bits nor asks the OS whether it saves the wide
// register state). Kernels for x86 levels are compiled in every TU through target attributes, so a
// binary built without -march still runs AVX-512 VNNI kernels on a CPU that has them.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/simd/arm/target_region.hpp"

#if PTQ_ARCH_X86
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

// Target attribute strings for each x86 level. IMPORTANT: a target attribute adds to the TU's
// own flags, it does not replace them; see core/config.hpp for why that is safe here.
// Keep equal to PTQ_X86_TARGETS_* in simd/x86/target_region.hpp.
#define PTQ_TARGET_SSE41 __attribute__((target("sse4.1,ssse3")))
#define PTQ_TARGET_AVX2 __attribute__((target("avx2,fma,f16c,bmi2")))
#define PTQ_TARGET_AVXVNNI __attribute__((target("avx2,fma,f16c,bmi2,avxvnni")))
#define PTQ_TARGET_AVX512 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512cd,avx2,fma,f16c,bmi2")))
#define PTQ_TARGET_AVX512VNNI \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512cd,avx512vnni,avx2,fma,f16c,bmi2")))

PTQ_NAMESPACE_BEGIN

// Levels, one bit each so that sets of them are masks. The numeric order is the preference order
// when ptq picks the best level a CPU runs.
enum class Isa : uint32_t {
  kScalar = 1u << 0,       // the scalar reference: every kernel family has it
  kGeneric = 1u << 1,      // xsimd at the TU's compile-time arch (SSE2 on baseline x86-64, NEON on ARM)
  kSse41 = 1u << 4,        // SSE4.1 + SSSE3
  kAvx2 = 1u << 5,         // AVX2 + FMA + F16C (x86-64-v3)
  kAvx512 = 1u << 6,       // AVX-512 F/BW/VL/DQ/CD on top of kAvx2 (x86-64-v4)
  kAvxVnni = 1u << 7,      // kAvx2 + AVX-VNNI (VEX vpdpbusd on ymm)
  kAvx512Vnni = 1u << 8,   // kAvx512 + AVX-512 VNNI (EVEX vpdpbusd on zmm)
  kNeon = 1u << 12,        // AArch64 Advanced SIMD
  kNeonDot = 1u << 13,     // kNeon + SDOT/UDOT (ARMv8.2 dot product)
};

// All levels, best first. `selected_isa()` takes the first one that is compiled, detected and
// allowed by PTQ_ISA.
inline constexpr Isa kAllIsas[] = {Isa::kAvx512Vnni, Isa::kAvxVnni, Isa::kAvx512, Isa::kAvx2,
                                   Isa::kSse41,      Isa::kNeonDot, Isa::kNeon,   Isa::kGeneric,
                                   Isa::kScalar};

constexpr uint32_t isa_bit(Isa isa) { return static_cast<uint32_t>(isa); }

inline const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kGeneric: return "generic";
    case Isa::kSse41: return "sse41";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kAvxVnni: return "avxvnni";
    case Isa::kAvx512Vnni: return "avx512vnni";
    case Isa::kNeon: return "neon";
    case Isa::kNeonDot: return "neondot";
  }
  return "unknown";
}

// Parses a name printed by isa_name (case-sensitive; "reference" is accepted for "scalar").
inline bool parse_isa(const char* name, Isa* out) {
  if (name == nullptr) return false;
  if (std::strcmp(name, "reference") == 0) {
    *out = Isa::kScalar;
    return true;
  }
  for (Isa isa : kAllIsas) {
    if (std::strcmp(name, isa_name(isa)) == 0) {
      *out = isa;
      return true;
    }
  }
  return false;
}

// The levels a given level implies: a kernel family that has no variant for `isa` uses the best
// variant it has among these (ruy's RUY_INHERIT_KERNEL, as a mask). kAvx512Vnni does not imply
// kAvxVnni: Ice Lake has the first and not the second.
constexpr uint32_t isa_implied(Isa isa) {
  constexpr uint32_t base = isa_bit(Isa::kScalar) | isa_bit(Isa::kGeneric);
  constexpr uint32_t sse41 = base | isa_bit(Isa::kSse41);
  constexpr uint32_t avx2 = sse41 | isa_bit(Isa::kAvx2);
  constexpr uint32_t avx512 = avx2 | isa_bit(Isa::kAvx512);
  constexpr uint32_t neon = base | isa_bit(Isa::kNeon);
  switch (isa) {
    case Isa::kScalar: return isa_bit(Isa::kScalar);
    case Isa::kGeneric: return base;
    case Isa::kSse41: return sse41;
    case Isa::kAvx2: return avx2;
    case Isa::kAvx512: return avx512;
    case Isa::kAvxVnni: return avx2 | isa_bit(Isa::kAvxVnni);
    case Isa::kAvx512Vnni: return avx512 | isa_bit(Isa::kAvx512Vnni);
    case Isa::kNeon: return neon;
    case Isa::kNeonDot: return neon | isa_bit(Isa::kNeonDot);
  }
  return isa_bit(Isa::kScalar);
}

// Raw CPU features, as read from the hardware and the OS.
struct CpuFeatures {
  bool sse41 = false, ssse3 = false;
  bool avx = false, avx2 = false, fma = false, f16c = false, bmi2 = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false, avx512cd = false;
  bool avx512vnni = false, avxvnni = false;
  bool os_avx = false, os_avx512 = false;  // XCR0 says the OS saves ymm / zmm+opmask state
  bool neon = false, neon_dot = false;
};

namespace detail {

#if PTQ_ARCH_X86
inline uint64_t read_xcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}
#endif

inline CpuFeatures detect_cpu_features() {
  CpuFeatures f;
#if PTQ_ARCH_X86
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return f;
  const unsigned max_leaf = eax;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  f.ssse3 = (ecx >> 9) & 1;
  f.fma = (ecx >> 12) & 1;
  f.sse41 = (ecx >> 19) & 1;
  const bool osxsave = (ecx >> 27) & 1;
  f.avx = (ecx >> 28) & 1;
  f.f16c = (ecx >> 29) & 1;
  if (osxsave) {
    const uint64_t xcr0 = read_xcr0();
    f.os_avx = (xcr0 & 0x6) == 0x6;        // SSE + AVX state
    f.os_avx512 = (xcr0 & 0xE6) == 0xE6;   // + opmask, ZMM_Hi256, Hi16_ZMM
  }
  if (max_leaf >= 7) {
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    f.avx2 = (ebx >> 5) & 1;
    f.bmi2 = (ebx >> 8) & 1;
    f.avx512f = (ebx >> 16) & 1;
    f.avx512dq = (ebx >> 17) & 1;
    f.avx512cd = (ebx >> 28) & 1;
    f.avx512bw = (ebx >> 30) & 1;
    f.avx512vl = (ebx >> 31) & 1;
    f.avx512vnni = (ecx >> 11) & 1;
    const unsigned max_subleaf = eax;
    if (max_subleaf >= 1) {
      __cpuid_count(7, 1, eax, ebx, ecx, edx);
      f.avxvnni = (eax >> 4) & 1;
    }
  }
#elif defined(__aarch64__)
  f.neon = true;
#if defined(__linux__)
  const unsigned long hwcap = getauxval(AT_HWCAP);
  f.neon_dot = (hwcap & (1ul << 20)) != 0;  // HWCAP_ASIMDDP
#endif
#endif
  return f;
}

}  // namespace detail

// Read once per process (thread-safe static initialisation).
inline const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detail::detect_cpu_features();
  return features;
}

// Levels whose features this CPU and OS provide.
inline uint32_t detected_isas() {
  const CpuFeatures& f = cpu_features();
  uint32_t mask = isa_bit(Isa::kScalar);
#if defined(__SSE2__) || defined(__ARM_NEON) || defined(__aarch64__)
  mask |= isa_bit(Isa::kGeneric);  // the TU's own baseline: running at all means the CPU has it
#endif
  const bool sse41 = f.sse41 && f.ssse3;
  const bool avx2 = sse41 && f.avx && f.os_avx && f.avx2 && f.fma && f.f16c && f.bmi2;
  const bool avx512 = avx2 && f.os_avx512 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq &&
                      f.avx512cd;
  if (sse41) mask |= isa_bit(Isa::kSse41);
  if (avx2) mask |= isa_bit(Isa::kAvx2);
  if (avx512) mask |= isa_bit(Isa::kAvx512);
  if (avx2 && f.avxvnni) mask |= isa_bit(Isa::kAvxVnni);
  if (avx512 && f.avx512vnni) mask |= isa_bit(Isa::kAvx512Vnni);
  if (f.neon) mask |= isa_bit(Isa::kNeon);
  if (f.neon && f.neon_dot) mask |= isa_bit(Isa::kNeonDot);
  return mask;
}

// Levels this build has kernels for. On x86 with GCC or clang every x86 level is compiled through
// target attributes, whatever the TU's -m flags; on AArch64 likewise NEON and the dot product.
constexpr uint32_t compiled_isas() {
  uint32_t mask = isa_bit(Isa::kScalar);
#if defined(__SSE2__) || defined(__ARM_NEON) || defined(__aarch64__)
  mask |= isa_bit(Isa::kGeneric);
#endif
#if PTQ_ARCH_X86
  mask |= isa_bit(Isa::kSse41) | isa_bit(Isa::kAvx2) | isa_bit(Isa::kAvx512) |
          isa_bit(Isa::kAvxVnni) | isa_bit(Isa::kAvx512Vnni);
#endif
#if defined(__aarch64__)
  mask |= isa_bit(Isa::kNeon);
#endif
#if PTQ_ARM_HAVE_NEONDOT  // through a target region (simd/arm/target_region.hpp), whatever -march
  mask |= isa_bit(Isa::kNeonDot);
#endif
  return mask;
}

// Levels that can run here: compiled and detected.
inline uint32_t runnable_isa_mask() { return compiled_isas() & detected_isas(); }

inline bool isa_runnable(Isa isa) { return (runnable_isa_mask() & isa_bit(isa)) != 0; }

// Every runnable level, best first. Tests walk this list.
inline std::vector<Isa> runnable_isas() {
  std::vector<Isa> out;
  for (Isa isa : kAllIsas)
    if (isa_runnable(isa)) out.push_back(isa);
  return out;
}

// "avx512vnni avxvnni avx512 avx2 sse41 generic scalar"
inline std::string isa_mask_to_string(uint32_t mask) {
  std::string s;
  for (Isa isa : kAllIsas) {
    if (mask & isa_bit(isa)) {
      if (!s.empty()) s += ' ';
      s += isa_name(isa);
    }
  }
  return s;
}

PTQ_NAMESPACE_END
