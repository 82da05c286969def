// Reading ONNX quantization parameters (scale and zero-point inputs) into the kernels' structs.
#pragma once
#include <vector>

#include "graph/op.h"
#include "kernels/qlayer.h"

namespace qfrt {

struct QParam {
  double scale = 1;
  int32_t zp = 0;
  DType dtype = DType::U8;  // the quantized type (from the zero point, else the default)
};

// Per-tensor: scale in[si] (float scalar, required), zero point in[zi] (uint8/int8 scalar, optional).
QParam scalar_qparam(const Node& n, const Inputs& in, size_t si, size_t zi, DType default_type);

struct QParamVec {
  std::vector<double> scale;
  std::vector<int32_t> zp;
  DType dtype = DType::S8;
};
// scale / zp (either may be null: 1 and 0) holding 1 or `channels` values; broadcast to `channels`.
QParamVec channel_qparams(const Node& n, const Tensor* scale, const Tensor* zp, int64_t channels, DType default_type,
                          const char* what);

// Weights w (uint8 or int8) viewed as rows [M][K] (transpose: w is [K][M] instead), with parameters.
QWeights make_qweights(const Node& n, const Tensor& w, int64_t M, int64_t K, bool transpose, const QParamVec& q);

// Output clamp of a QuantizeLinear-like node: the type's range, narrowed by qf_lo / qf_hi (prefix "qf_";
// a fused QuantizeLinear's clamp on qf.QConvToFloat is qf_q_lo / qf_q_hi).
void output_clamp(const Node& n, DType t, int32_t& lo, int32_t& hi, const std::string& prefix = "qf_");
bool is_quantized_type(DType t);

}  // namespace qfrt
