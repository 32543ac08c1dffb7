// runtime/op_registry.hpp: which prepare function implements each op kind.
//
// One table, one entry per ir::OpKind; the implementations live in runtime/ops/, one file per op
// family. A test checks that every kind in ir::kAllOpKinds has an entry.
#pragma once

#include "ptq/ir/graph.hpp"
#include "ptq/runtime/op_kernel.hpp"
#include "ptq/runtime/ops/conv.hpp"
#include "ptq/runtime/ops/data.hpp"
#include "ptq/runtime/ops/elementwise.hpp"
#include "ptq/runtime/ops/nonlinear.hpp"
#include "ptq/runtime/ops/pool.hpp"
#include "ptq/runtime/ops/recurrent.hpp"

PTQ_NAMESPACE_BEGIN
namespace runtime {

// The prepare function of `kind`, or nullptr for a kind this build does not know.
inline PrepareFn find_prepare(ir::OpKind kind) {
  using K = ir::OpKind;
  switch (kind) {
    case K::kConv2D: return prepare_conv2d;
    case K::kDepthwiseConv2D: return prepare_depthwise_conv2d;
    case K::kFullyConnected: return prepare_fully_connected;
    case K::kBatchMatMul: return prepare_batch_matmul;
    case K::kAdd: return prepare_add;
    case K::kSub: return prepare_sub;
    case K::kMul: return prepare_mul;
    case K::kAveragePool2D: return prepare_average_pool2d;
    case K::kMaxPool2D: return prepare_max_pool2d;
    case K::kMean: return prepare_mean;
    case K::kRelu: return prepare_relu;
    case K::kRelu6: return prepare_relu6;
    case K::kReluN1To1: return prepare_relu_n1_to_1;
    case K::kClip: return prepare_clip;
    case K::kLeakyRelu: return prepare_leaky_relu;
    case K::kHardSwish: return prepare_hard_swish;
    case K::kHardSigmoid: return prepare_hard_sigmoid;
    case K::kSoftmax: return prepare_softmax;
    case K::kLogistic: return prepare_logistic;
    case K::kTanh: return prepare_tanh;
    case K::kReshape: return prepare_reshape;
    case K::kFlatten: return prepare_flatten;
    case K::kTranspose: return prepare_transpose;
    case K::kConcatenation: return prepare_concatenation;
    case K::kPad: return prepare_pad;
    case K::kQuantize: return prepare_quantize;
    case K::kDequantize: return prepare_dequantize;
    case K::kFakeQuant: return prepare_fake_quant;
    case K::kEmbeddingLookup: return prepare_embedding_lookup;
    case K::kRnn: return prepare_rnn;
    case K::kLstm: return prepare_lstm;
    case K::kGru: return prepare_gru;
  }
  return nullptr;
}

}  // namespace runtime
PTQ_NAMESPACE_END
