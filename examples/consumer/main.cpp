// main.cpp: a consumer of ptq; prints what it was built against and checks one real computation.
//
// The check is the TFLite requantization of an int32 accumulator by a real multiplier of 0.75:
// 0.75 = 0.75 * 2^0, so the Q0.31 mantissa is round(0.75 * 2^31) = 1610612736 with shift 0, and
// 1000 * 0.75 = 750 exactly (no rounding involved). Any mismatch returns 1, so a build that links
// but computes wrongly still fails the packaging tests.
#include <cstdint>
#include <cstdio>

#include <ptq/ptq.hpp>

int main() {
  std::printf("ptq %d.%d.%d, selected ISA: %s\n", PTQ_VERSION_MAJOR, PTQ_VERSION_MINOR,
              PTQ_VERSION_PATCH, ptq::isa_name(ptq::selected_isa()));

  const ptq::QuantizedMultiplier m = ptq::quantize_multiplier(0.75);
  const int32_t y = ptq::multiply_by_quantized_multiplier(1000, m.multiplier, m.shift);
  std::printf("quantize_multiplier(0.75) = {%d, %d}; 1000 * 0.75 -> %d\n",
              static_cast<int>(m.multiplier), m.shift, static_cast<int>(y));

  if (m.multiplier != 1610612736 || m.shift != 0 || y != 750) {
    std::fprintf(stderr, "consumer: expected {1610612736, 0} and 750\n");
    return 1;
  }
  std::printf("consumer: OK\n");
  return 0;
}
