// float_scalar.hpp: the float32 kernels in portable C++ (one float per "vector"): the fallback on
// levels without SIMD float kernels, with the same chains in the same order as the SIMD levels
// (float_microkernel.hpp), so it gives their bits and the reference's.
#pragma once

#include <cstdint>

#include "ptq/core/config.hpp"
#include "ptq/kernels/float_microkernel.hpp"
#include "ptq/kernels/reference/activation.hpp"

PTQ_NAMESPACE_BEGIN
namespace float_scalar {
namespace float_detail_scalar {

using VF = float;
inline constexpr int64_t kLanes = 1;
inline constexpr int kMr = 2;
inline constexpr int kGemvPanels = 1;

PTQ_INLINE VF loadu_f(const float* p) { return *p; }
PTQ_INLINE void storeu_f(float* p, VF v) { *p = v; }
PTQ_INLINE VF set1_f(float v) { return v; }
PTQ_INLINE VF zero_f() { return 0.0f; }
PTQ_INLINE VF add_f(VF a, VF b) { return a + b; }
PTQ_INLINE VF mul_f(VF a, VF b) { return a * b; }
PTQ_INLINE VF min_f(VF a, VF b) { return a < b ? a : b; }
PTQ_INLINE VF max_f(VF a, VF b) { return a > b ? a : b; }
PTQ_INLINE VF opaque_f(VF v) { return ::ptq::float_detail::opaque(v); }

#include "ptq/kernels/float_kernels-inl.hpp"

}  // namespace float_detail_scalar

inline constexpr FloatKernels kFloatKernels = [] {
  using namespace float_detail_scalar;
  FloatKernels k;
  k.name = "f32_2x16__scalar";
  k.isa = Isa::kScalar;
  k.mr = kMr;
  k.gemv_panels = kGemvPanels;
  k.tiles[0] = &f32_tile<1>;
  k.tiles[1] = &f32_tile<2>;
  k.gemv[0] = &f32_gemv<1>;
  k.output = &f32_output;
  k.depthwise_row = &f32_depthwise_row;
  return k;
}();

}  // namespace float_scalar
PTQ_NAMESPACE_END
