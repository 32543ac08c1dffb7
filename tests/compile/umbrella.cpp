// Compile-only checks of the umbrella header under the flags users build with (tests/CMakeLists.txt
// builds this file as C++20 and as C++17 with -fno-exceptions -fno-rtti, warnings as errors). The
// instantiations make the compiler see the kernels' bodies, not just their declarations.
#include <ptq/ptq.hpp>

#include <cstdint>

void ptq_compile_check(const float* x, int8_t* q, int32_t* acc, uint16_t* h, std::size_t n) {
  const ptq::QuantParams p = ptq::choose_quant_params<int8_t>(-1.0, 1.0);
  ptq::quantize<int8_t>(x, q, n, p);
  ptq::dequantize<int8_t>(q, const_cast<float*>(x), n, p);
  const auto rq = ptq::make_requantize_params({0.001f, 0}, p, ptq::RoundingMode::kSingle);
  ptq::requantize<int32_t, int8_t>(acc, q, n, rq);
  ptq::float_to_half(x, h, n);
  (void)ptq::multiply_by_quantized_multiplier(acc[0], ptq::quantize_multiplier(0.5));
}
