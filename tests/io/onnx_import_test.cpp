// onnx_import_test.cpp: io/onnx_import.hpp against ONNX Runtime.
//
// Per-op cases (tests/io/onnx/cases/<case>/, written by make_fixtures.py): each small ONNX graph is
// imported, run through ptq's float interpreter and compared with the outputs ONNX Runtime 1.19.2
// produced for the same inputs (stored beside the model as TensorProto files), twice: with NCHW
// graph inputs and outputs (nhwc = false) and with NHWC ones (nhwc = true; the test transposes).
// Tolerance: |ptq - ort| <= 1e-5 + 1e-4 * |ort| per element (float32 with a different summation
// order, x * (1 / c) for x / c, BatchNormalization folded into the weights).
// Error cases (tests/io/onnx/errors/): every refusal path, with the words its message must contain,
// plus corrupt protobufs (random bytes, every truncation of a real model) and a missing file.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "ptq/io/onnx_import.hpp"
#include "ptq/runtime/interpreter.hpp"
#include "support/isa_coverage.hpp"

namespace fs = std::filesystem;
namespace ir = ptq::ir;
using ptq::DType;
using ptq::io::OnnxImportOptions;

namespace {

const fs::path kFixtures = PTQ_ONNX_FIXTURE_DIR;

std::vector<char> read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// NCHW <-> NHWC of a 4-D float tensor held as a flat vector.
std::vector<float> to_nhwc(const std::vector<float>& x, const std::vector<int64_t>& d) {
  std::vector<float> y(x.size());
  const int64_t N = d[0], C = d[1], H = d[2], W = d[3];
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) y[static_cast<std::size_t>(((n * H + h) * W + w) * C + c)] = x[static_cast<std::size_t>(((n * C + c) * H + h) * W + w)];
  return y;
}

struct Loaded {
  ir::Tensor t;
  std::vector<float> f;  // float data (empty for int32)
};

Loaded load(const fs::path& p) {
  ptq::Result<ir::Tensor> t = ptq::io::load_onnx_tensor(p.string());
  REQUIRE_MESSAGE(t.ok(), t.status().to_string());
  Loaded l{std::move(t).value(), {}};
  if (l.t.dtype == DType::kFloat32) {
    const float* f = l.t.data.as<float>();
    l.f.assign(f, f + l.t.shape.num_elements());
  }
  return l;
}

int count_kind(const ir::Graph& g, ir::OpKind k) {
  return static_cast<int>(std::count_if(g.ops.begin(), g.ops.end(), [&](const ir::Op& op) { return op.kind == k; }));
}

// Imports one case, runs it on its stored inputs and compares with ONNX Runtime's outputs; returns
// the graph for structural checks.
ir::Graph run_case(const fs::path& dir, bool nhwc, double* max_err) {
  std::vector<Loaded> inputs, outputs;
  for (int k = 0;; ++k) {
    const fs::path p = dir / "test_data_set_0" / ("input_" + std::to_string(k) + ".pb");
    if (!fs::exists(p)) break;
    inputs.push_back(load(p));
  }
  for (int k = 0;; ++k) {
    const fs::path p = dir / "test_data_set_0" / ("output_" + std::to_string(k) + ".pb");
    if (!fs::exists(p)) break;
    outputs.push_back(load(p));
  }
  REQUIRE(!inputs.empty());
  REQUIRE(!outputs.empty());
  OnnxImportOptions opt;
  opt.nhwc = nhwc;
  opt.batch = inputs[0].t.shape[0];  // binds dynamic_batch_mlp's N; the others are static
  ptq::Result<ir::Graph> g = ptq::io::import_onnx((dir / "model.onnx").string(), opt);
  REQUIRE_MESSAGE(g.ok(), g.status().to_string());
  ptq::Result<ptq::runtime::Interpreter> it = ptq::runtime::Interpreter::create(*g);
  REQUIRE_MESSAGE(it.ok(), it.status().to_string());
  ptq::runtime::Interpreter& net = *it;
  REQUIRE(net.input_count() == static_cast<int>(inputs.size()));
  REQUIRE(net.output_count() == static_cast<int>(outputs.size()));
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const Loaded& in = inputs[k];
    const ir::Tensor& decl = *net.input(static_cast<int>(k)).tensor;
    const bool transpose = nhwc && in.t.shape.rank() == 4 && in.t.dtype == DType::kFloat32;
    const ptq::Shape want = transpose ? ptq::Shape{in.t.shape[0], in.t.shape[2], in.t.shape[3], in.t.shape[1]} : in.t.shape;
    REQUIRE_MESSAGE(decl.shape == want, "input " << k << " declared " << decl.shape.to_string() << ", data " << in.t.shape.to_string());
    REQUIRE(decl.dtype == in.t.dtype);
    if (transpose) {
      const std::vector<float> x = to_nhwc(in.f, in.t.shape.dims());
      REQUIRE(net.set_input(static_cast<int>(k), x.data(), x.size() * 4).ok());
    } else {
      REQUIRE(net.set_input(static_cast<int>(k), in.t.data.data(), in.t.data.size()).ok());
    }
  }
  net.run();
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    const Loaded& want = outputs[k];
    const ptq::runtime::TensorView got = net.output(static_cast<int>(k));
    const bool transpose = nhwc && want.t.shape.rank() == 4;
    const ptq::Shape shape = transpose ? ptq::Shape{want.t.shape[0], want.t.shape[2], want.t.shape[3], want.t.shape[1]} : want.t.shape;
    REQUIRE_MESSAGE(got.tensor->shape == shape, "output " << k << " is " << got.tensor->shape.to_string() << ", expected " << shape.to_string());
    const std::vector<float> ref = transpose ? to_nhwc(want.f, want.t.shape.dims()) : want.f;
    const float* y = static_cast<const float*>(got.data);
    int bad = 0;
    for (std::size_t e = 0; e < ref.size(); ++e) {
      const double err = std::fabs(static_cast<double>(y[e]) - ref[e]);
      *max_err = std::max(*max_err, err);
      if (!(err <= 1e-5 + 1e-4 * std::fabs(ref[e])) && bad++ < 3) {
        FAIL_CHECK("output " << k << " element " << e << ": ptq " << y[e] << ", onnxruntime " << ref[e]);
      }
    }
    CHECK(bad == 0);
    // Not vacuous: the reference has distinct non-zero values.
    CHECK(std::count_if(ref.begin(), ref.end(), [](float v) { return v != 0.0f; }) > 0);
  }
  return std::move(g).value();
}

}  // namespace

TEST_CASE("onnx import: every per-op case matches ONNX Runtime (NCHW and NHWC interfaces)") {
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(kFixtures / "cases")) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  REQUIRE(dirs.size() >= 50);
  double worst = 0;
  std::string worst_case;
  for (const fs::path& d : dirs) {
    for (bool nhwc : {false, true}) {
      CAPTURE(d.filename().string());
      CAPTURE(nhwc);
      double err = 0;
      run_case(d, nhwc, &err);
      if (err > worst) {
        worst = err;
        worst_case = d.filename().string();
      }
    }
  }
  MESSAGE("largest |ptq - onnxruntime| over ", dirs.size(), " cases: ", worst, " (", worst_case, ")");
}

TEST_CASE("onnx import: layouts, folding and fusion leave what TFLite would") {
  const auto graph = [](const char* name, bool nhwc = true) {
    double err = 0;
    return run_case(kFixtures / "cases" / name, nhwc, &err);
  };
  using K = ir::OpKind;
  SUBCASE("Conv + Relu: one Conv2D with a fused Relu, no Transpose") {
    const ir::Graph g = graph("conv_relu");
    REQUIRE(g.op_count() == 1);
    CHECK(g.ops[0].kind == K::kConv2D);
    CHECK(g.ops[0].attrs.activation == ptq::FusedActivation::kRelu);
    CHECK(g.ops[0].attrs.padding == ptq::Padding::kValid);
  }
  SUBCASE("Conv + BatchNormalization + Clip(0, 6): one Conv2D, BN in its weights, Relu6 fused") {
    const ir::Graph g = graph("conv_bn_relu6");
    REQUIRE(g.op_count() == 1);
    CHECK(g.ops[0].attrs.activation == ptq::FusedActivation::kRelu6);
  }
  SUBCASE("pads SAME can express become SAME; others an explicit Pad") {
    CHECK(graph("conv_same_bias").ops[0].attrs.padding == ptq::Padding::kSame);
    const ir::Graph g = graph("conv_asymmetric_pads");
    REQUIRE(g.op_count() == 2);
    CHECK(g.ops[0].kind == K::kPad);
    CHECK(g.ops[0].attrs.paddings == std::vector<int64_t>{0, 0, 0, 2, 1, 0, 0, 0});
    CHECK(graph("conv_auto_pad_same_lower_s2").ops[0].kind == K::kPad);  // odd total: the extra pixel before
    CHECK(graph("conv_auto_pad_same_upper_s2").op_count() == 1);
  }
  SUBCASE("depthwise and grouped convolutions") {
    const ir::Graph dw = graph("conv_depthwise_multiplier2");
    REQUIRE(dw.op_count() == 1);
    CHECK(dw.ops[0].kind == K::kDepthwiseConv2D);
    CHECK(dw.ops[0].attrs.depth_multiplier == 2);
    CHECK(dw.tensor(dw.ops[0].inputs[1]).shape == ptq::Shape{1, 3, 3, 8});
    const ir::Graph gc = graph("conv_grouped");
    CHECK(gc.ops[0].kind == K::kConv2D);
    CHECK(gc.tensor(gc.ops[0].inputs[1]).shape == ptq::Shape{6, 3, 3, 2});
  }
  SUBCASE("elementwise ops with NCHW-broadcast constants run in NHWC: no Transpose") {
    CHECK(count_kind(graph("elementwise_const_broadcast"), K::kTranspose) == 0);
    const ir::Graph r = graph("residual_add_relu");
    CHECK(count_kind(r, K::kTranspose) == 0);
    CHECK(count_kind(r, K::kRelu) == 0);
    CHECK(r.ops.back().kind == K::kAdd);
    CHECK(r.ops.back().attrs.activation == ptq::FusedActivation::kRelu);
  }
  SUBCASE("Flatten of a 6x6 NCHW map needs one Transpose; after GlobalAveragePool none") {
    CHECK(count_kind(graph("conv_flatten_gemm"), K::kTranspose) == 1);
    const ir::Graph g = graph("conv_gap_flatten_gemm_softmax");
    CHECK(count_kind(g, K::kTranspose) == 0);
    CHECK(count_kind(g, K::kMean) == 1);
  }
  SUBCASE("the shape subgraph of x.view(x.size(0), -1) folds to one Reshape") {
    const ir::Graph g = graph("shape_subgraph_reshape_matmul");
    CHECK(count_kind(g, K::kReshape) == 1);
    CHECK(count_kind(g, K::kFullyConnected) == 1);
    CHECK(g.op_count() == 4);  // Conv2D, Transpose (the 3x3 map is flattened in NCHW order), Reshape, FC
  }
  SUBCASE("a Transpose to NHWC after a conv costs nothing; from NHWC before a conv either") {
    CHECK(count_kind(graph("transpose_to_nhwc", false), K::kTranspose) == 1);  // the NCHW graph input only
    CHECK(count_kind(graph("transpose_from_nhwc", false), K::kTranspose) == 1);  // the NCHW graph output only
  }
  SUBCASE("Identity, Dropout, Cast and Constant nodes leave only arithmetic") {
    const ir::Graph g = graph("constant_identity_dropout_cast");
    CHECK(g.op_count() == 2);
  }
  SUBCASE("Gemm with alpha, beta and a bias row is one FullyConnected") {
    const ir::Graph g = graph("gemm_transb_alpha_beta");
    REQUIRE(g.op_count() == 1);
    CHECK(g.ops[0].kind == K::kFullyConnected);
  }
  SUBCASE("LSTM gates are reordered once; Y_h is a gather of y, not a second LSTM") {
    const ir::Graph g = graph("lstm_forward");
    CHECK(count_kind(g, K::kLstm) == 1);
    CHECK(count_kind(g, K::kEmbeddingLookup) == 1);
  }
}

TEST_CASE("onnx import: the batch and named dimensions bind dynamic dims") {
  OnnxImportOptions opt;
  opt.batch = 5;
  ptq::Result<ir::Graph> g = ptq::io::import_onnx((kFixtures / "cases/dynamic_batch_mlp/model.onnx").string(), opt);
  REQUIRE_MESSAGE(g.ok(), g.status().to_string());
  CHECK(g->tensor(g->inputs[0]).shape == ptq::Shape{5, 4, 4, 1});
  CHECK(g->tensor(g->outputs[0]).shape == ptq::Shape{5, 3});

  const std::string dyn = (kFixtures / "errors/dynamic_inner_dim.onnx").string();
  opt.batch = 2;
  opt.dims = {{"H", 8}};
  g = ptq::io::import_onnx(dyn, opt);
  REQUIRE_MESSAGE(g.ok(), g.status().to_string());
  CHECK(g->tensor(g->inputs[0]).shape == ptq::Shape{2, 8, 8, 3});
  opt.batch = 0;
  CHECK(ptq::io::import_onnx(dyn, opt).status().code() == ptq::StatusCode::kInvalidArgument);
}

TEST_CASE("onnx import: what ptq cannot import exactly is a clear error") {
  // case -> words the message must contain (node, op type, attribute).
  const std::map<std::string, std::vector<std::string>> expected = {
      {"op_unsupported", {"node 0 'the_erf' (Erf)", "op type 'Erf' is not supported"}},
      {"attribute_unknown", {"node 0 'r' (Relu)", "attribute 'color'"}},
      {"pad_reflect", {"(Pad)", "attribute 'mode'", "reflect"}},
      {"pad_nonzero_value", {"(Pad)", "constant_value"}},
      {"maxpool_asymmetric_pads", {"(MaxPool)", "attribute 'pads'", "(1, 1, 1, 1)"}},
      {"maxpool_dilations", {"(MaxPool)", "attribute 'dilations'"}},
      {"maxpool_indices_used", {"(MaxPool)", "Indices"}},
      {"avgpool_ceil_partial", {"(AveragePool)", "attribute 'ceil_mode'"}},
      {"avgpool_exclude_pad_asymmetric", {"(AveragePool)", "attribute 'pads'"}},
      {"conv_transpose_3x3", {"(ConvTranspose)", "1x1"}},
      {"conv1d", {"(Conv)", "2-D convolutions"}},
      {"conv_runtime_weights", {"(Conv)", "input 1 (weights) 'wx'", "run time"}},
      {"div_runtime", {"(Div)", "divisor 'x2'"}},
      {"cast_to_int", {"(Cast)", "attribute 'to'"}},
      {"dropout_mask_used", {"(Dropout)", "mask"}},
      {"batchnorm_training", {"(BatchNormalization)", "attribute 'training_mode'"}},
      {"gather_runtime_ids_axis1", {"(Gather)", "attribute 'axis'"}},
      {"lstm_clip", {"(LSTM)", "attribute 'clip'"}},
      {"lstm_activations", {"(LSTM)", "attribute 'activations'"}},
      {"lstm_reverse", {"(LSTM)", "attribute 'direction'", "reverse"}},
      {"lstm_yc_used", {"(LSTM)", "Y_c"}},
      {"lstm_peepholes", {"(LSTM)", "peephole"}},
      {"gru_linear_before_reset_0", {"(GRU)", "attribute 'linear_before_reset'"}},
      {"dynamic_inner_dim", {"graph input 'x' dimension 2", "'H'", "OnnxImportOptions::dims"}},
      {"input_without_shape", {"graph input 'x'", "no shape"}},
      {"opset_10", {"opset is 10"}},
      {"undefined_input", {"node 0 'lost' (Relu)", "'nowhere'"}},
      {"custom_domain", {"(Foo)", "com.example"}},
      {"external_data", {"initializer 0 'wx'", "external data"}},
      {"initializer_truncated_raw", {"initializer 0 'wb'", "raw_data holds 428 bytes", "432"}},
      {"reshape_runtime_shape", {"(Reshape)", "input 1 (shape) 's'"}},
  };
  int seen = 0;
  for (const auto& e : fs::directory_iterator(kFixtures / "errors")) {
    const std::string name = e.path().stem().string();
    CAPTURE(name);
    auto it = expected.find(name);
    REQUIRE_MESSAGE(it != expected.end(), "no expectation for error case " << name);
    ptq::Result<ir::Graph> g = ptq::io::import_onnx(e.path().string());
    REQUIRE(!g.ok());
    const std::string msg = g.status().to_string();
    CAPTURE(msg);
    CHECK(msg.find(e.path().string()) != std::string::npos);  // the file is named
    for (const std::string& w : it->second) CHECK_MESSAGE(msg.find(w) != std::string::npos, "missing '" << w << "'");
    ++seen;
  }
  CHECK(seen == static_cast<int>(expected.size()));
}

TEST_CASE("onnx import: corrupt, truncated and missing files are errors, never crashes") {
  CHECK(ptq::io::import_onnx((kFixtures / "no_such_model.onnx").string()).status().code() == ptq::StatusCode::kNotFound);
  CHECK(ptq::io::load_onnx_tensor((kFixtures / "no_such_tensor.pb").string()).status().code() == ptq::StatusCode::kNotFound);

  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<uint8_t> bytes(static_cast<std::size_t>(rng() % 600));
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    CHECK(!ptq::io::import_onnx_bytes(bytes.data(), bytes.size()).ok());
  }
  const std::vector<char> model = read_bytes(kFixtures / "cases/conv_bn_relu6/model.onnx");
  REQUIRE(model.size() > 500);
  REQUIRE(ptq::io::import_onnx_bytes(model.data(), model.size()).ok());
  const std::size_t step = ptq_test::kSanitized ? 7 : 1;
  for (std::size_t n = 0; n < model.size(); n += step) {
    CAPTURE(n);
    const ptq::Result<ir::Graph> g = ptq::io::import_onnx_bytes(model.data(), n);
    CHECK(!g.ok());
  }
  // Bit flips: any result, as long as it is a result (ASan watches for the crash).
  std::vector<char> flipped = model;
  for (int trial = 0; trial < (ptq_test::kSanitized ? 100 : 400); ++trial) {
    flipped = model;
    for (int k = 0; k < 3; ++k) flipped[rng() % flipped.size()] ^= static_cast<char>(1 << (rng() % 8));
    const ptq::Result<ir::Graph> g = ptq::io::import_onnx_bytes(flipped.data(), flipped.size());
    if (g.ok()) CHECK(ir::validate(*g).ok());
  }
  const char junk[] = "not a tensor at all";
  CHECK(!ptq::io::load_onnx_tensor_bytes(junk, sizeof junk).ok());
}
