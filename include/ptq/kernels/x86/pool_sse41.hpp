// x86/pool_sse41.hpp: the pooling and Mean kernels (pool_kernels-inl.hpp) on 128-bit vectors:
// 16 int8 channels (then 8) per max-pool step, 4 floats, 4 int32 sums (int8 average and Mean).
// Compiled for SSE4.1 through a target region: any TU may include this file; callers check the CPU.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <tuple>

#include "ptq/kernels/pool_ops.hpp"
#include "ptq/kernels/reference/pool.hpp"
#include "ptq/simd/x86/target_region.hpp"

PTQ_X86_BEGIN_REGION(PTQ_X86_TARGETS_SSE41)
PTQ_NAMESPACE_BEGIN
namespace x86::sse41 {
namespace pool_kernels {

#include "ptq/kernels/x86/pool_x86_128-inl.hpp"

using I8Widths = std::tuple<I8x16, I8x8, pool_ops::I8x1>;
using F32Widths = std::tuple<F32x4, pool_ops::F32x1>;
using I32Widths = std::tuple<I32x4, pool_ops::I32x1>;

#include "ptq/kernels/pool_kernels-inl.hpp"

}  // namespace pool_kernels
}  // namespace x86::sse41
PTQ_NAMESPACE_END
PTQ_X86_END_REGION
