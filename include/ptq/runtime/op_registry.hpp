// runtime/op_registry.hpp: which prepare function implements each op kind.
//
// One table, one entry per ir::OpKind; the implementations live in runtime/ops/, one file per op
// family. A test checks that every kind in ir::kAllOpKinds has an entry.
//
// Compiling the ops once. Every translation unit that creates an Interpreter or runs the
// converter reaches find_prepare(), and with it every op family and every kernel they dispatch
// to: the heaviest part of ptq to compile. A program with many such units can compile it once:
//   - define PTQ_OPS_EXTERN in every unit of the program (compiler flag): this header then only
//     declares find_prepare() and includes none of runtime/ops/;
//   - in exactly one unit, also define PTQ_OPS_IMPLEMENTATION before including it: that unit
//     compiles the table and the ops, as an ordinary (non-inline) function.
// Without PTQ_OPS_EXTERN (the default) the table is an inline function, as every other ptq
// function is. The two modes must not be mixed in one program (find_prepare would have an inline
// and a non-inline definition); the ABI namespace already keeps units built for different ISA
// baselines apart.
#pragma once

#include "ptq/ir/graph.hpp"
#include "ptq/runtime/op_kernel.hpp"

#if defined(PTQ_OPS_EXTERN) && !defined(PTQ_OPS_IMPLEMENTATION)

PTQ_NAMESPACE_BEGIN
namespace runtime {
// The prepare function of `kind`, or nullptr for a kind this build does not know (compiled in
// the program's PTQ_OPS_IMPLEMENTATION unit).
PrepareFn find_prepare(ir::OpKind kind);
}  // namespace runtime
PTQ_NAMESPACE_END

#else

#include "ptq/runtime/ops/conv.hpp"
#include "ptq/runtime/ops/data.hpp"
#include "ptq/runtime/ops/elementwise.hpp"
#include "ptq/runtime/ops/nonlinear.hpp"
#include "ptq/runtime/ops/pool.hpp"
#include "ptq/runtime/ops/recurrent.hpp"

PTQ_NAMESPACE_BEGIN
namespace runtime {

#if defined(PTQ_OPS_EXTERN)
#define PTQ_OPS_LINKAGE  // the one out-of-line definition
#else
#define PTQ_OPS_LINKAGE inline
#endif

// The prepare function of `kind`, or nullptr for a kind this build does not know.
PTQ_OPS_LINKAGE PrepareFn find_prepare(ir::OpKind kind) {
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

#undef PTQ_OPS_LINKAGE

#endif  // PTQ_OPS_EXTERN && !PTQ_OPS_IMPLEMENTATION
