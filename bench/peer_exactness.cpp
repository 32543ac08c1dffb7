// peer_exactness.cpp: are the peers' int8 results exact on this CPU? Not a timing: it runs oneDNN's
// int8 matmul, convolution and depthwise convolution with int32 output (no scales, so nothing but
// the multiply-adds) and counts the outputs that differ from the exact sums, for activations of a
// few bits (where no intermediate can overflow) and over the full int8 / uint8 range.
//
// Why it matters for the GEMM and conv tables of README.md: without VNNI, x86 multiplies int8 with
// vpmaddubsw (u8 x s8, pairs summed into int16 with saturation). Fed full-range data as is, a pair
// sum past 32767 saturates; oneDNN's s8-source convolutions also differ from the exact sums on
// 4-bit data, where nothing can saturate. ptq's kernels are exact for every int8 input
// (tests/kernels/gemm_test.cpp) and pay for it with one vpsignb per vpmaddubsw (bench/README.md,
// "Peak"). This program shows what the faster figures compute.
//
//   build/bench/bench/ptq_peer_exactness
#include <oneapi/dnnl/dnnl.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using dnnl::memory;

enum class Range { kSmall, kFull };  // small: x in [0, 15], w in [-8, 8]; full: every int8 / uint8

struct Data {
  std::vector<uint8_t> x;  // uint8 source, or the bytes of an int8 one
  std::vector<int8_t> w;
};

Data make_data(std::size_t nx, std::size_t nw, Range range, uint32_t seed) {
  std::mt19937 rng(seed);
  Data d;
  d.x.resize(nx);
  d.w.resize(nw);
  for (auto& v : d.x) v = static_cast<uint8_t>(range == Range::kSmall ? rng() % 16 : rng() % 256);
  for (auto& v : d.w) v = static_cast<int8_t>(range == Range::kSmall ? static_cast<int>(rng() % 17) - 8
                                                                     : static_cast<int>(rng() % 255) - 127);
  return d;
}

int activation(const Data& d, std::size_t i, bool u8) {
  return u8 ? static_cast<int>(d.x[i]) : static_cast<int>(static_cast<int8_t>(d.x[i]));
}

struct Tally {
  long differ = 0;
  long long max_diff = 0;
  void add(long long exact, int32_t got) {
    const long long diff = std::llabs(exact - got);
    if (diff != 0) {
      ++differ;
      if (diff > max_diff) max_diff = diff;
    }
  }
};

void report(const char* what, bool u8, Range range, const char* impl, const Tally& t, long outputs) {
  std::printf("| %-34s | %s | %-10s | %-20s | %6ld of %6ld | %9lld |\n", what, u8 ? "u8" : "s8",
              range == Range::kSmall ? "4-bit" : "full range", impl, t.differ, outputs, t.max_diff);
}

// C[M, N] = A[M, K] * B[K, N], int32 out.
void matmul(bool u8, Range range) {
  const int64_t m = 64, k = 1024, n = 256;
  const Data d = make_data(static_cast<std::size_t>(m * k), static_cast<std::size_t>(k * n), range, 1);
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const memory::desc src({m, k}, u8 ? memory::data_type::u8 : memory::data_type::s8, memory::format_tag::ab);
  const memory::desc wts({k, n}, memory::data_type::s8, memory::format_tag::ab);
  const memory::desc dst({m, n}, memory::data_type::s32, memory::format_tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, wts, dst), eng);
  std::vector<int32_t> y(static_cast<std::size_t>(m * n));
  memory src_m(src, eng, const_cast<uint8_t*>(d.x.data())), w_m(wts, eng, const_cast<int8_t*>(d.w.data()));
  memory dst_m(dst, eng, y.data());
  dnnl::matmul(pd).execute(strm, {{DNNL_ARG_SRC, src_m}, {DNNL_ARG_WEIGHTS, w_m}, {DNNL_ARG_DST, dst_m}});
  strm.wait();
  Tally t;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      long long exact = 0;
      for (int64_t p = 0; p < k; ++p) {
        exact += activation(d, static_cast<std::size_t>(i * k + p), u8) * d.w[static_cast<std::size_t>(p * n + j)];
      }
      t.add(exact, y[static_cast<std::size_t>(i * n + j)]);
    }
  }
  report("matmul 64x1024x256", u8, range, pd.impl_info_str(), t, static_cast<long>(m * n));
}

// oneDNN's convolution (3x3, stride 1, padding 1) of d with int32 output; w_user is d.w's layout.
std::vector<int32_t> onednn_convolution(const Data& d, const memory::desc& src, const memory::desc& w_user,
                                        const memory::desc& dst, std::string* impl) {
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const memory::desc w_any(w_user.dims(), memory::data_type::s8, memory::format_tag::any);
  const dnnl::convolution_forward::primitive_desc pd(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src,
                                      w_any, dst, {1, 1}, {1, 1}, {1, 1}),
      eng);
  *impl = pd.impl_info_str();
  memory src_m(src, eng, const_cast<uint8_t*>(d.x.data())), wu_m(w_user, eng, const_cast<int8_t*>(d.w.data()));
  memory w_m(pd.weights_desc(), eng);
  dnnl::reorder(wu_m, w_m).execute(strm, wu_m, w_m);
  std::vector<int32_t> y(dst.get_size() / sizeof(int32_t));
  memory dst_m(dst, eng, y.data());
  dnnl::convolution_forward(pd).execute(strm, {{DNNL_ARG_SRC, src_m}, {DNNL_ARG_WEIGHTS, w_m}, {DNNL_ARG_DST, dst_m}});
  strm.wait();
  return y;
}

// A 3x3 convolution, NHWC h x w x c, stride 1, padding 1, int32 out: c -> oc channels (weights
// [oc][fy][fx][c]), or depthwise (groups = channels, oc = c, weights [c][fy][fx]).
void convolution(const char* what, int64_t h, int64_t w, int64_t c, int64_t oc, bool depthwise, bool u8, Range range,
                 uint32_t seed) {
  const int64_t f = 3, group_c = depthwise ? 1 : c;  // input channels per output channel
  const Data d =
      make_data(static_cast<std::size_t>(h * w * c), static_cast<std::size_t>(oc * f * f * group_c), range, seed);
  const memory::desc w_user = depthwise
                                  ? memory::desc({c, 1, 1, f, f}, memory::data_type::s8, memory::format_tag::goihw)
                                  : memory::desc({oc, c, f, f}, memory::data_type::s8, memory::format_tag::ohwi);
  std::string impl;
  const std::vector<int32_t> y = onednn_convolution(
      d, memory::desc({1, c, h, w}, u8 ? memory::data_type::u8 : memory::data_type::s8, memory::format_tag::nhwc),
      w_user, memory::desc({1, oc, h, w}, memory::data_type::s32, memory::format_tag::nhwc), &impl);
  Tally t;
  for (int64_t oy = 0; oy < h; ++oy) {
    for (int64_t ox = 0; ox < w; ++ox) {
      for (int64_t o = 0; o < oc; ++o) {
        const int64_t c0 = depthwise ? o : 0;  // the output channel's first input channel
        long long exact = 0;
        for (int64_t fy = 0; fy < f; ++fy) {
          for (int64_t fx = 0; fx < f; ++fx) {
            const int64_t iy = oy + fy - 1, ix = ox + fx - 1;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            for (int64_t ic = 0; ic < group_c; ++ic) {
              exact += activation(d, static_cast<std::size_t>((iy * w + ix) * c + c0 + ic), u8) *
                       d.w[static_cast<std::size_t>(((o * f + fy) * f + fx) * group_c + ic)];
            }
          }
        }
        t.add(exact, y[static_cast<std::size_t>((oy * w + ox) * oc + o)]);
      }
    }
  }
  report(what, u8, range, impl.c_str(), t, static_cast<long>(h * w * oc));
}

}  // namespace

int main(int, char** argv) {
  if (std::getenv("OMP_NUM_THREADS") == nullptr) {  // one thread, as in the benchmarks
    setenv("OMP_NUM_THREADS", "1", 1);
    execv("/proc/self/exe", argv);
  }
  std::printf("oneDNN %d.%d.%d, int32 outputs against the exact sums\n\n", dnnl_version()->major,
              dnnl_version()->minor, dnnl_version()->patch);
  std::printf("| %-34s | src | %-10s | %-20s | %-16s | %-9s |\n", "layer", "values", "oneDNN kernel",
              "outputs differing", "max |diff|");
  std::printf("|---|---|---|---|---|---|\n");
  for (Range range : {Range::kSmall, Range::kFull}) {
    for (bool u8 : {true, false}) matmul(u8, range);
    for (bool u8 : {true, false}) {
      convolution("convolution 28x28x64 3x3 -> 64", 28, 28, 64, 64, false, u8, range, 3);
    }
    for (bool u8 : {true, false}) {
      convolution("depthwise 56x56x128 3x3", 56, 56, 128, 128, true, u8, range, 5);
    }
  }
  return 0;
}
