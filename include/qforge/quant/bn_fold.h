// BatchNorm folding during quantization-aware training (Jacob et al. 2018, sec. 3.2; Krishnamoorthi
// 2018, sec. 3.2): the weight quantizer sees the weights the deployed model will hold, W * gamma /
// sqrt(running_var + eps), so its grid is fitted to them and not to the unfolded W. A Conv followed by
// BatchNormalization becomes
//   BnFoldWeight(W, gamma, var) -> [FakeQuant] -> Conv (no bias) -> BnUnfold(y, gamma, var, b) -> BatchNorm
// BnUnfold divides the per-channel factor back out and adds the conv bias, so BatchNorm still normalizes
// with batch statistics while they train; once frozen (quantize.freeze_bn_after), or in evaluation,
// the chain computes exactly the folded layer. fold_batchnorm_for_export() then makes it that layer:
// folded weights as an initializer, the BatchNorm's shift as the conv bias.
#pragma once
#include <ATen/ATen.h>

#include "qforge/ir/graph.h"

namespace qforge::quant {

constexpr const char* kBnFoldWeightOp = "BnFoldWeight";
constexpr const char* kBnUnfoldOp = "BnUnfold";

// gamma / sqrt(var + eps) per channel; 0 for channels whose running variance says their output was
// constant (ir::kConstantChannelVar, as the inference-time fold), differentiable in gamma.
at::Tensor bn_fold_scale(const at::Tensor& gamma, const at::Tensor& var, double eps);

// Rewrites every Conv whose output only a BatchNormalization with constant statistics reads (run it
// before insert_fake_quant). Returns how many it rewrote.
int fold_batchnorm_for_qat(ir::Graph& g);

// Turns each BnFoldWeight / BnUnfold / BatchNormalization chain into the plain folded Conv, with the
// running statistics. Throws naming the node when a chain is not the one fold_batchnorm_for_qat made.
int fold_batchnorm_for_export(ir::Graph& g);

// Registers the two ops' kernels (autograd-differentiable) with the executor; register_quantization() calls it.
void register_bn_fold_ops();

}  // namespace qforge::quant
