// gemm/gemm.hpp: int8 fully connected / matmul with prepacked weights: prepare once, run many.
//
//   Status s = gemm::validate(params, weights);                 // once: names the culprit
//   gemm::PackedWeights packed = gemm::pack_weights(params, weights, bias);
//   gemm::fully_connected(packed, input, batches, output);      // per call: no allocation
//
// Bit for bit reference::fully_connected (and fully_connected_accumulators for the int32 form),
// on every ISA level, for any batch count, K, N, row strides and thread count.
//
// The front end (ruy's split): pick a microkernel for the level and the packed layout, then walk
// cache blocks and hand register tiles to it. Blocking, outermost first:
//   M-blocks of mc rows (mc * K activation bytes stay in L2 while every panel passes over them)
//   -> N-panels (nr columns; the unit of work for threads)
//     -> K-blocks of kc (a kc * nr slice of the panel, 16 KiB, stays in L1 while the tiles of
//        the M-block stream over it; accumulators chain through a stack buffer)
//       -> MR-row tiles (the microkernel; a partial last tile runs the kernel's m-row instance).
//   Then the output stage of the M-block x panel.
// Batch 1 (GEMV) is the same walk with one tile per panel: every weight byte is read once, in
// order, and the per-call cost outside the microkernel is one bias copy and one output stage per
// panel (nr columns).
//
// Threading: give a ParallelFor; it receives the panel count and a task, and must run the task on
// disjoint [begin, end) ranges covering it. Each output element is computed by one task with the
// same instructions in the same order whatever the split, so results do not depend on the thread
// count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <type_traits>

#include "ptq/core/config.hpp"
#include "ptq/kernels/gemm/microkernel.hpp"
#include "ptq/kernels/gemm/microkernel_scalar.hpp"
#include "ptq/kernels/gemm/output_stage.hpp"
#include "ptq/kernels/gemm/pack.hpp"
#include "ptq/simd/dispatch.hpp"

#if PTQ_ARCH_X86
#include "ptq/kernels/gemm/x86/microkernel_avx2.hpp"
#include "ptq/kernels/gemm/x86/microkernel_avx512.hpp"
#include "ptq/kernels/gemm/x86/microkernel_avx512vnni.hpp"
#include "ptq/kernels/gemm/x86/microkernel_avxvnni.hpp"
#include "ptq/kernels/gemm/x86/microkernel_sse41.hpp"
#endif
#if defined(__aarch64__)
#include "ptq/kernels/gemm/arm/microkernel_neon.hpp"
#include "ptq/kernels/gemm/arm/microkernel_neondot.hpp"
#define PTQ_GEMM_HAVE_NEON 1
#define PTQ_GEMM_HAVE_NEONDOT PTQ_ARM_HAVE_NEONDOT
#else
#define PTQ_GEMM_HAVE_NEON 0
#define PTQ_GEMM_HAVE_NEONDOT 0
#endif

PTQ_NAMESPACE_BEGIN
namespace gemm {

// The level whose kernel runs for a requested level (on its preferred_layout): every x86 level
// has its own, and so do the AArch64 levels (NEON, NEON dot product); others use the scalar one.
constexpr Isa gemm_variant(Isa isa) {
  switch (isa) {
    case Isa::kAvx512Vnni: return PTQ_ARCH_X86 ? Isa::kAvx512Vnni : Isa::kScalar;
    case Isa::kAvx512: return PTQ_ARCH_X86 ? Isa::kAvx512 : Isa::kScalar;
    case Isa::kAvxVnni: return PTQ_ARCH_X86 ? Isa::kAvxVnni : Isa::kScalar;
    case Isa::kAvx2: return PTQ_ARCH_X86 ? Isa::kAvx2 : Isa::kScalar;
    case Isa::kSse41: return PTQ_ARCH_X86 ? Isa::kSse41 : Isa::kScalar;
    case Isa::kNeonDot: return PTQ_GEMM_HAVE_NEONDOT ? Isa::kNeonDot : PTQ_GEMM_HAVE_NEON ? Isa::kNeon : Isa::kScalar;
    case Isa::kNeon: return PTQ_GEMM_HAVE_NEON ? Isa::kNeon : Isa::kScalar;
    default: return Isa::kScalar;
  }
}

// The packed layout of a level's fastest kernel: 64c4 for the AVX-512 levels (a 6x64 / 4x64 zmm
// tile), 16c4 elsewhere. pack_weights(p, w, bias, preferred_layout()) packs for this CPU (or for
// the PTQ_ISA override); a packing of any layout runs at every level (microkernel_for).
constexpr PackLayout preferred_layout(Isa isa) {
  return gemm_variant(isa) == Isa::kAvx512Vnni || gemm_variant(isa) == Isa::kAvx512 ? PackLayout{64, 4}
                                                                                   : kDefaultPackLayout;
}
inline PackLayout preferred_layout() { return preferred_layout(selected_isa()); }

// Every microkernel of this build, for benchmarks and tests that select one by name. Each level's
// preferred kernel for a layout comes first among that level's kernels of the layout.
inline const Microkernel* const* microkernels(std::size_t* count) {
  static const Microkernel* const all[] = {
#if PTQ_ARCH_X86
      &avx512vnni::kS8S8_6x64c4_dpbusd, &avx512::kS8S8_4x64c4_maddubs, &avxvnni::kS8S8_6x16c4_dpbusd,
      &avx2::kS8S8_4x16c4_maddubs,      &avx2::kS8S8_3x8c8_maddwd,     &avx2::kS8S8_4x64c4_maddubs,
      &sse41::kS8S8_2x16c4_maddubs,
#endif
#if PTQ_GEMM_HAVE_NEONDOT
      &neondot::kS8S8_4x16c4_sdot,      &neondot::kS8S8_4x64c4_sdot,
#endif
#if PTQ_GEMM_HAVE_NEON
      &neon::kS8S8_2x16c4_smlal,        &neon::kS8S8_2x64c4_smlal,
#endif
      &scalar::kS8S8_4x16c4, &scalar::kS8S8_3x8c8, &scalar::kS8S8_2x64c4,
  };
  *count = sizeof(all) / sizeof(all[0]);
  return all;
}

inline const Microkernel* find_microkernel(const char* name) {
  std::size_t n = 0;
  const Microkernel* const* all = microkernels(&n);
  for (std::size_t i = 0; i < n; ++i)
    if (std::strcmp(all[i]->name, name) == 0) return all[i];
  return nullptr;
}

// The kernel that runs PackedWeights of `layout` at level `isa` (clamped to what the CPU runs).
// Every layout a kernel here reads has a scalar kernel, so the answer exists for those layouts;
// nullptr for any other layout.
inline const Microkernel* microkernel_for(PackLayout layout, Isa isa = selected_isa()) {
  const Isa v = gemm_variant(best_runnable_isa_within(isa));
  std::size_t n = 0;
  const Microkernel* const* all = microkernels(&n);
  const Microkernel* best = nullptr;
  for (std::size_t i = 0; i < n; ++i) {
    const Microkernel* k = all[i];
    if (k->layout != layout || (isa_implied(v) & isa_bit(k->isa)) == 0) continue;
    // Prefer the most capable level; the list puts each level's preferred kernel first.
    if (best == nullptr || isa_bit(k->isa) > isa_bit(best->isa)) best = k;
  }
  return best;
}

// Packs for a given kernel's layout (for selecting a variant by name).
inline PackedWeights pack_weights(const FullyConnectedParams& p, const int8_t* weights,
                                  const int32_t* bias, const Microkernel& kernel) {
  return pack_weights(p, weights, bias, kernel.layout);
}

// A task over a range of N-panels, passed to ParallelFor without allocating (a function ref).
class PanelTask {
 public:
  template <class F>
  explicit PanelTask(const F& f)
      : ctx_(&f), fn_([](const void* c, int64_t b, int64_t e) { (*static_cast<const F*>(c))(b, e); }) {}
  void operator()(int64_t begin, int64_t end) const { fn_(ctx_, begin, end); }

 private:
  const void* ctx_;
  void (*fn_)(const void*, int64_t, int64_t);
};

// A user's task splitter (an inference engine's thread pool): run task(begin, end) on disjoint
// ranges covering [0, count), return when all have finished. Called once per GEMM.
using ParallelFor = std::function<void(int64_t count, const PanelTask& task)>;

struct GemmOptions {
  Isa isa = selected_isa();
  const Microkernel* kernel = nullptr;     // a specific kernel (its layout must be the packed one)
  int64_t input_stride = 0;                // elements between input rows; 0 means K
  int64_t output_stride = 0;               // elements between output rows; 0 means N
  const ParallelFor* parallel_for = nullptr;
  // True: every input row may be read up to round_up(K, kr) bytes (kr of the packed layout; the
  // row stride is at least that), whatever those bytes hold, since the packing's K padding is 0.
  // The kernels then run K % kr != 0 as whole groups instead of the partial-group tail they
  // otherwise need per row and tile (conv.hpp's im2col rows are padded so, for K = 27 and such).
  bool padded_rows = false;
};

namespace detail {

inline constexpr int64_t kPanelSliceBytes = 16 * 1024;  // kc * nr: the L1-resident slice of a panel
inline constexpr int64_t kAccInts = 4096;               // accumulator buffer: mc * nr int32 (16 KiB)
inline constexpr int64_t kMaxMc = 64;

// acc[r][0, nr) = bias[0, nr) for r in [0, rows): fixed-size copies for the layouts' panel widths
// (a libc call per row cost ~10% of a short-K convolution, K = 27).
inline void copy_bias_rows(int32_t* acc, const int32_t* bias, int64_t nr, int64_t rows) {
  const auto rows_of = [&](auto width) {
    for (int64_t r = 0; r < rows; ++r) std::memcpy(acc + r * width, bias, sizeof(int32_t) * width);
  };
  switch (nr) {
    case 8: rows_of(std::integral_constant<int64_t, 8>()); break;
    case 16: rows_of(std::integral_constant<int64_t, 16>()); break;
    case 64: rows_of(std::integral_constant<int64_t, 64>()); break;
    default:
      for (int64_t r = 0; r < rows; ++r) {
        std::memcpy(acc + r * nr, bias, static_cast<std::size_t>(nr) * sizeof(int32_t));
      }
  }
}

// The walk over panels [panel_begin, panel_end) of a packing (no allocation, no library calls
// but memcpy: it also runs freestanding, in the emulator tests).
template <class Out>
void run_panels(const Microkernel& uk, const PackedView& pw, const int8_t* input, int64_t in_stride,
                int64_t batches, Out* output, int64_t out_stride, int64_t panel_begin,
                int64_t panel_end) {
  const int64_t nr = uk.layout.nr, kr = uk.layout.kr, mr = uk.mr;
  const int64_t k = pw.k, n = pw.n;
  const int64_t kc = std::max(kr, kPanelSliceBytes / nr / kr * kr);
  const int64_t mc = std::min(kMaxMc, kAccInts / nr) / mr * mr;
  const int32_t* bias = uk.u8_activations ? pw.bias_u8 : pw.bias_s8;
  alignas(64) int32_t acc[kAccInts];
  OutputStage os;
  os.output_zero_point = pw.output_zero_point;
  os.activation_min = pw.activation_min;
  os.activation_max = pw.activation_max;
  os.rounding = pw.rounding;
  for (int64_t m0 = 0; m0 < batches; m0 += mc) {
    const int64_t mb = std::min(mc, batches - m0);
    for (int64_t p = panel_begin; p < panel_end; ++p) {
      const int64_t n0 = p * nr;
      const int cols = static_cast<int>(std::min(nr, n - n0));
      copy_bias_rows(acc, bias + n0, nr, mb);
      for (int64_t k0 = 0; k0 < k; k0 += kc) {
        const int64_t kn = std::min(kc, k - k0);
        const int8_t* w = pw.weights + p * pw.panel_bytes + k0 * nr;
        for (int64_t m = 0; m < mb; m += mr) {
          const int64_t rows = std::min(mr, mb - m);
          uk.tiles[rows - 1](kn, input + (m0 + m) * in_stride + k0, in_stride, w, acc + m * nr);
        }
      }
      Out* out = output + m0 * out_stride + n0;
      if constexpr (std::is_same<Out, int8_t>::value) {
        os.multipliers = pw.multipliers + n0;
        os.shifts = pw.shifts + n0;
        uk.output(static_cast<int>(mb), cols, acc, os, out, out_stride);
      } else {
        output_stage_i32(static_cast<int>(mb), cols, static_cast<int>(nr), acc, out, out_stride);
      }
    }
  }
}

template <class Out>
void run_panels(const Microkernel& uk, const PackedWeights& pw, const int8_t* input, int64_t in_stride,
                int64_t batches, Out* output, int64_t out_stride, int64_t panel_begin,
                int64_t panel_end) {
  run_panels<Out>(uk, pw.view(), input, in_stride, batches, output, out_stride, panel_begin, panel_end);
}

// Runs task(begin, end) over [0, panels): on the caller's ParallelFor when there is one and more
// than one panel, else inline. Shared by every GEMM front end (int8, uint8).
template <class Task>
void for_panels(const GemmOptions& o, int64_t panels, const Task& task) {
  if (o.parallel_for != nullptr && *o.parallel_for && panels > 1) {
    (*o.parallel_for)(panels, PanelTask(task));
  } else {
    task(0, panels);
  }
}

template <class Out>
void run(const PackedWeights& pw, const int8_t* input, int64_t batches, Out* output,
         const GemmOptions& o) {
  PTQ_DCHECK(!pw.empty() || pw.output_depth() == 0, "gemm::fully_connected: weights not packed");
  PTQ_DCHECK(batches >= 0, "gemm::fully_connected: negative batch count");
  const Microkernel* uk = o.kernel != nullptr ? o.kernel : microkernel_for(pw.layout(), o.isa);
  PTQ_DCHECK(uk != nullptr, "gemm::fully_connected: no kernel reads this packed layout");
  PTQ_DCHECK(uk->layout == pw.layout(), "gemm::fully_connected: kernel and packing disagree on layout");
  PTQ_DCHECK(isa_runnable(uk->isa), "gemm::fully_connected: the kernel's ISA does not run on this CPU");
  if (batches == 0 || pw.output_depth() == 0) return;
  const int64_t in_stride = o.input_stride != 0 ? o.input_stride : pw.input_depth();
  const int64_t out_stride = o.output_stride != 0 ? o.output_stride : pw.output_depth();
  PTQ_DCHECK(in_stride >= pw.input_depth() && out_stride >= pw.output_depth(),
             "gemm::fully_connected: a row stride is shorter than the row");
  PackedView view = pw.view();
  if (o.padded_rows) {  // K_pad instead of K: the extra bytes meet the panel's zero padding
    view.k = round_up(view.k, pw.layout().kr);
    PTQ_DCHECK(in_stride >= view.k, "gemm::fully_connected: padded_rows with a row stride below round_up(K, kr)");
  }
  for_panels(o, pw.panel_count(), [&](int64_t begin, int64_t end) {
    run_panels<Out>(*uk, view, input, in_stride, batches, output, out_stride, begin, end);
  });
}

}  // namespace detail

// output[b][n] for b in [0, batches): reference::fully_connected<int8_t> on the packed layer.
// input rows of K int8 (o.input_stride apart), output rows of N int8 (o.output_stride apart).
inline void fully_connected(const PackedWeights& packed, const int8_t* input, int64_t batches,
                            int8_t* output, const GemmOptions& options) {
  detail::run<int8_t>(packed, input, batches, output, options);
}

inline void fully_connected(const PackedWeights& packed, const int8_t* input, int64_t batches,
                            int8_t* output, Isa isa = selected_isa()) {
  GemmOptions o;
  o.isa = isa;
  detail::run<int8_t>(packed, input, batches, output, o);
}

// The int32 accumulators, bias included: reference::fully_connected_accumulators<int8_t>.
inline void fully_connected_accumulators(const PackedWeights& packed, const int8_t* input,
                                         int64_t batches, int32_t* output,
                                         const GemmOptions& options = GemmOptions()) {
  detail::run<int32_t>(packed, input, batches, output, options);
}

}  // namespace gemm
PTQ_NAMESPACE_END
