// Two builds of one file, for tests/emu/test_gemm_emu.py (the GEMM microkernels that this host's
// CPU may lack: AVX-512 VNNI, AVX-VNNI, AVX-512BW):
//  * -DPTQ_EMU_GUEST: a freestanding x86-64 ELF (no libc, no allocation, no std::function) whose
//    entry point runs the GEMM front end's panel walk (gemm::detail::run_panels: K-blocks, M-blocks,
//    MR-row tiles with their partial instances, the kernel's output stage) with one kernel of
//    kKernels, on weights packed by the host. It runs inside the emulated CPU (bochs_runner.py).
//  * otherwise: a host shared library (ctypes) that makes a test case the way
//    tests/kernels/gemm_test.cpp's GemmTester does (inputs, multipliers spanning the int8 range,
//    gemm::pack_weights for the kernel's layout), the expected bytes from reference::fully_connected
//    and reference::fully_connected_accumulators, and the call block the guest reads.
// Both builds see the same structs (same compiler and ABI), so the call block's bytes travel as is.
#include <cstddef>
#include <cstdint>

#ifndef PTQ_EMU_GUEST
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "ptq/kernels/reference/fully_connected.hpp"
#endif

#include "ptq/kernels/gemm/gemm.hpp"

#ifdef PTQ_EMU_GUEST
#include <cstring>
// The compiler may emit calls to these for struct copies and zeroing, even freestanding; the
// front end calls memcpy for the bias rows and narrow output tiles. (The guest is built with
// exceptions on, which the headers need to parse, and never throws: nothing here allocates.)
// memcpy moves 8 bytes per step, so that the instruction counts of --count-instructions are not
// dominated by the front end's bias-row copies (libc's memcpy is a few instructions per 64 bytes).
extern "C" void* memcpy(void* d, const void* s, std::size_t n) noexcept {
  auto* dp = static_cast<unsigned char*>(d);
  const auto* sp = static_cast<const unsigned char*>(s);
  for (; n >= 8; n -= 8, dp += 8, sp += 8) {
    uint64_t v;
    __builtin_memcpy(&v, sp, 8);
    __builtin_memcpy(dp, &v, 8);
  }
  while (n--) *dp++ = *sp++;
  return d;
}
extern "C" void* memset(void* d, int c, std::size_t n) noexcept {
  auto* dp = static_cast<unsigned char*>(d);
  while (n--) *dp++ = static_cast<unsigned char>(c);
  return d;
}
#endif

namespace gemm = ptq::gemm;

namespace {
// The kernels under test, by index (the same list in both builds).
const gemm::Microkernel* const kKernels[] = {
    &gemm::avx512vnni::kS8S8_6x64c4_dpbusd,
    &gemm::avxvnni::kS8S8_6x16c4_dpbusd,
    &gemm::avx512::kS8S8_4x64c4_maddubs,
};
constexpr int64_t kKernelCount = sizeof(kKernels) / sizeof(kKernels[0]);
}  // namespace

// What the guest runs: the kernel, the packed layer (pointers in guest memory) and the operands.
struct GemmCall {
  int64_t kernel;
  int64_t batches, in_stride, out_stride;
  int64_t int32_output;  // 0: int8 through the kernel's output stage; 1: the int32 accumulators
  const int8_t* input;
  void* output;
  gemm::PackedView packed;
};

extern "C" int64_t gemm_kernel_count() { return kKernelCount; }

#ifdef PTQ_EMU_GUEST

extern "C" int64_t gemm_run(const GemmCall* c) {
  if (c->kernel < 0 || c->kernel >= kKernelCount) return -1;
  const gemm::Microkernel& uk = *kKernels[c->kernel];
  if (uk.layout != c->packed.layout) return -2;
  const int64_t panels = (c->packed.n + uk.layout.nr - 1) / uk.layout.nr;
  if (c->int32_output) {
    gemm::detail::run_panels<int32_t>(uk, c->packed, c->input, c->in_stride, c->batches,
                                      static_cast<int32_t*>(c->output), c->out_stride, 0, panels);
  } else {
    gemm::detail::run_panels<int8_t>(uk, c->packed, c->input, c->in_stride, c->batches,
                                     static_cast<int8_t*>(c->output), c->out_stride, 0, panels);
  }
  return 0;
}

// The microkernel alone, for instruction counts: the tile calls of run_panels (same K-blocks and
// MR-row tiles) on a zeroed accumulator buffer, without the bias copies and the output stage.
extern "C" int64_t gemm_tiles_only(const GemmCall* c) {
  if (c->kernel < 0 || c->kernel >= kKernelCount) return -1;
  const gemm::Microkernel& uk = *kKernels[c->kernel];
  const int64_t nr = uk.layout.nr, kr = uk.layout.kr, mr = uk.mr, k = c->packed.k;
  const int64_t panels = (c->packed.n + nr - 1) / nr;
  const int64_t kc = kr > gemm::detail::kPanelSliceBytes / nr / kr * kr ? kr : gemm::detail::kPanelSliceBytes / nr / kr * kr;
  const int64_t mc = (gemm::detail::kMaxMc < gemm::detail::kAccInts / nr ? gemm::detail::kMaxMc : gemm::detail::kAccInts / nr) / mr * mr;
  alignas(64) static int32_t acc[gemm::detail::kAccInts];
  for (int64_t m0 = 0; m0 < c->batches; m0 += mc) {
    const int64_t mb = c->batches - m0 < mc ? c->batches - m0 : mc;
    for (int64_t p = 0; p < panels; ++p) {
      for (int64_t k0 = 0; k0 < k; k0 += kc) {
        const int64_t kn = k - k0 < kc ? k - k0 : kc;
        const int8_t* w = c->packed.weights + p * c->packed.panel_bytes + k0 * nr;
        for (int64_t m = 0; m < mb; m += mr) {
          const int64_t rows = mb - m < mr ? mb - m : mr;
          uk.tiles[rows - 1](kn, c->input + (m0 + m) * c->in_stride + k0, c->in_stride, w, acc + m * nr);
        }
      }
    }
  }
  return 0;
}

#else  // host

// One test case, as GemmTester's setters (tests/kernels/gemm_test.cpp).
struct CaseSpec {
  int64_t kernel, m, k, n, in_pad, out_pad;
  int32_t x_zp, y_zp, act_min, act_max;
  int32_t per_channel, single_rounding, values, bias;  // values: 0 uniform, 1 small, 2 extreme
  uint32_t seed;
  double gain;
};

// What the host made; pointers into static storage, valid until the next host_make_case.
struct CaseData {
  const int8_t* input;    int64_t input_bytes;    // m rows, in_stride apart, gaps 0x55
  const int8_t* weights;  int64_t weight_bytes;   // the packed panels (+ kReadPastEnd)
  const int32_t* ints;    int64_t int_count;      // bias_s8, bias_u8, multipliers, shifts (4 * N_pad)
  const int8_t* want8;    int64_t want8_bytes;    // m rows, out_stride apart, gaps = sentinel
  const int32_t* want32;  int64_t want32_count;   // likewise, int32
  int64_t in_stride, out_stride, n_pad, nontrivial;  // nontrivial: not all outputs equal
};

namespace {
struct Store {
  std::vector<int8_t> input, weights, want8;
  std::vector<int32_t> ints, want32;
  gemm::PackedWeights packed;
  int64_t in_stride = 0, out_stride = 0;
} g_store;
}  // namespace

extern "C" int64_t gemm_kernel_info(int64_t index, int64_t* mr_nr_kr_u8, char* name, int64_t name_bytes) {
  if (index < 0 || index >= kKernelCount) return -1;
  const gemm::Microkernel& uk = *kKernels[index];
  mr_nr_kr_u8[0] = uk.mr;
  mr_nr_kr_u8[1] = uk.layout.nr;
  mr_nr_kr_u8[2] = uk.layout.kr;
  mr_nr_kr_u8[3] = uk.u8_activations ? 1 : 0;
  std::strncpy(name, uk.name, static_cast<std::size_t>(name_bytes) - 1);
  name[name_bytes - 1] = 0;
  return 0;
}

extern "C" int64_t host_make_case(const CaseSpec* s, int8_t sentinel8, int32_t sentinel32, CaseData* out) {
  const gemm::Microkernel& uk = *kKernels[s->kernel];
  const int64_t m = s->m, k = s->k, n = s->n;
  std::mt19937 rng(s->seed ^ static_cast<uint32_t>(m * 7919 + k * 104729 + n * 31));
  ptq::FullyConnectedParams p;
  p.batches = m;
  p.input_depth = k;
  p.output_depth = n;
  p.input_zero_point = s->x_zp;
  p.output_zero_point = s->y_zp;
  p.rounding = s->single_rounding ? ptq::RoundingMode::kSingle : ptq::RoundingMode::kDouble;
  p.activation_min = s->act_min;
  p.activation_max = s->act_max;

  std::vector<int8_t> x(static_cast<std::size_t>(m * k)), w(static_cast<std::size_t>(n * k));
  std::vector<int32_t> bias(static_cast<std::size_t>(n));
  auto pick = [&](int lo, int hi) {
    return static_cast<int8_t>(lo + static_cast<int>(rng() % static_cast<uint32_t>(hi - lo + 1)));
  };
  if (s->values == 0) {
    for (auto& v : x) v = pick(-128, 127);
    for (auto& v : w) v = pick(-127, 127);
  } else if (s->values == 1) {
    for (auto& v : x) v = pick(-4, 4);
    for (auto& v : w) v = pick(-4, 4);
  } else {  // even rows aligned in sign against column 0: the largest |sum| int8 allows
    for (auto& v : w) v = (rng() & 1) ? 127 : -127;
    for (int64_t b = 0; b < m; ++b)
      for (int64_t kk = 0; kk < k; ++kk)
        x[b * k + kk] = b % 2 == 0 ? (w[kk] > 0 ? int8_t{-128} : int8_t{127})
                                   : ((rng() & 1) ? int8_t{127} : int8_t{-128});
  }
  std::uniform_int_distribution<int32_t> bd(s->values == 1 ? -20 : -100000, s->values == 1 ? 20 : 100000);
  for (auto& v : bias) v = bd(rng);
  const int32_t* bias_p = s->bias ? bias.data() : nullptr;

  // Multipliers from the accumulators, so that the outputs span the int8 range.
  ptq::FullyConnectedParams pa = p;
  pa.multipliers = {ptq::QuantizedMultiplier{1 << 30, 1}};
  std::vector<int32_t> acc(static_cast<std::size_t>(m * n));
  ptq::reference::fully_connected_accumulators(pa, x.data(), w.data(), bias_p, acc.data());
  std::vector<double> col_max(static_cast<std::size_t>(n), 1.0);
  for (int64_t b = 0; b < m; ++b)
    for (int64_t c = 0; c < n; ++c) col_max[c] = std::max(col_max[c], std::fabs(static_cast<double>(acc[b * n + c])));
  const double layer_max = *std::max_element(col_max.begin(), col_max.end());
  std::uniform_real_distribution<double> jitter(0.6, 1.7);
  if (s->per_channel) {
    for (int64_t c = 0; c < n; ++c)
      p.multipliers.push_back(ptq::quantize_multiplier(s->gain * 100.0 * jitter(rng) / col_max[c], p.rounding));
  } else {
    p.multipliers.push_back(ptq::quantize_multiplier(s->gain * 100.0 / layer_max, p.rounding));
  }
  if (!gemm::validate(p, w.data()).ok()) return -1;
  std::vector<int8_t> want(static_cast<std::size_t>(m * n));
  ptq::reference::fully_connected(p, x.data(), w.data(), bias_p, want.data());

  const int64_t in_stride = k + s->in_pad, out_stride = n + s->out_pad;
  Store& st = g_store;
  st.in_stride = in_stride;
  st.out_stride = out_stride;
  st.input.assign(static_cast<std::size_t>(std::max<int64_t>(1, m * in_stride)), int8_t{0x55});
  for (int64_t b = 0; b < m; ++b) std::copy_n(&x[b * k], k, &st.input[b * in_stride]);
  st.want8.assign(static_cast<std::size_t>(m * out_stride), sentinel8);
  st.want32.assign(static_cast<std::size_t>(m * out_stride), sentinel32);
  for (int64_t b = 0; b < m; ++b) {
    std::copy_n(&want[b * n], n, &st.want8[b * out_stride]);
    std::copy_n(&acc[b * n], n, &st.want32[b * out_stride]);
  }
  st.packed = gemm::pack_weights(p, w.data(), bias_p, uk.layout);
  const gemm::PackedWeights& pw = st.packed;
  st.weights.assign(pw.weights(), pw.weights() + pw.panel_count() * pw.panel_bytes() + gemm::kReadPastEnd);
  st.ints.assign(pw.bias_s8(), pw.bias_s8() + 4 * pw.padded_columns());

  const auto [lo, hi] = std::minmax_element(want.begin(), want.end());
  out->nontrivial = want.size() < 8 || *lo != *hi;
  out->input = st.input.data();
  out->input_bytes = static_cast<int64_t>(st.input.size());
  out->weights = st.weights.data();
  out->weight_bytes = static_cast<int64_t>(st.weights.size());
  out->ints = st.ints.data();
  out->int_count = static_cast<int64_t>(st.ints.size());
  out->want8 = st.want8.data();
  out->want8_bytes = static_cast<int64_t>(st.want8.size());
  out->want32 = st.want32.data();
  out->want32_count = static_cast<int64_t>(st.want32.size());
  out->in_stride = in_stride;
  out->out_stride = out_stride;
  out->n_pad = pw.padded_columns();
  return 0;
}

// The call block for the case last made, with its buffers at the given guest addresses.
extern "C" int64_t host_make_call(int64_t kernel, int64_t m, int64_t int32_output, uint64_t g_input,
                                  uint64_t g_weights, uint64_t g_ints, uint64_t g_output, GemmCall* out) {
  const gemm::PackedWeights& pw = g_store.packed;
  const int64_t np = pw.padded_columns();
  GemmCall c{};
  c.kernel = kernel;
  c.batches = m;
  c.in_stride = g_store.in_stride;
  c.out_stride = g_store.out_stride;
  c.int32_output = int32_output;
  c.input = reinterpret_cast<const int8_t*>(g_input);
  c.output = reinterpret_cast<void*>(g_output);
  c.packed = pw.view();
  c.packed.weights = reinterpret_cast<const int8_t*>(g_weights);
  const auto* ints = reinterpret_cast<const int32_t*>(g_ints);
  c.packed.bias_s8 = ints;
  c.packed.bias_u8 = ints + np;
  c.packed.multipliers = ints + 2 * np;
  c.packed.shifts = ints + 3 * np;
  *out = c;
  return static_cast<int64_t>(sizeof(GemmCall));
}

extern "C" int64_t sizeof_gemm_call() { return static_cast<int64_t>(sizeof(GemmCall)); }
extern "C" int64_t sizeof_case_spec() { return static_cast<int64_t>(sizeof(CaseSpec)); }
extern "C" int64_t sizeof_case_data() { return static_cast<int64_t>(sizeof(CaseData)); }

#endif
