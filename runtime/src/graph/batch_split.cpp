#include "graph/batch_split.h"

#include <cstring>
#include <set>
#include <string>

#include "core/error.h"

namespace qfrt {

bool batch_independent(const Node& n, const Graph& g) {
  // Per image by construction: convolutions, pooling, elementwise maps, quantization with one scale.
  static const std::set<std::string> per_image = {
      "QLinearConv", "ConvInteger", "qf.QConvToFloat", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
      "qf.QAveragePool", "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Identity", "Dropout",
      "BatchNormalization", "qf.QAdd", "qf.QChannelMin", "qf.CodebookQuantize", "qf.CodebookDequantize", "Add", "Sub", "Mul", "Div", "Min", "Max"};
  if (per_image.count(n.op)) return true;
  if (n.op == "QuantizeLinear" || n.op == "DequantizeLinear") {
    const Tensor* s = n.inputs.size() > 1 ? g.constant(n.input(1)) : nullptr;
    return s && (s->numel() == 1 || n.i("axis", 1) != 0);
  }
  // Rows of a matrix product are images when the weights are constant (qf.QGemm and Gemm read x as A).
  if (n.op == "qf.QGemm") return true;
  if (n.op == "Gemm") return n.i("transA", 0) == 0 && g.constant(n.input(1));
  if (n.op == "MatMul") return g.constant(n.input(1)) != nullptr;
  if (n.op == "Flatten") return n.i("axis", 1) >= 1;
  // Negative axes are refused too: the rank is not known here, and -1 of a rank-1 tensor is the batch.
  if (n.op == "Softmax" || n.op == "LogSoftmax") return n.i("axis", -1) >= 1;
  if (n.op == "Concat") return n.i("axis", 0) >= 1;  // a negative axis, as for Softmax
  if (n.op == "Reshape") {  // the batch must be copied (0) or inferred (-1 with every other size fixed)
    const Tensor* t = n.inputs.size() > 1 ? g.constant(n.input(1)) : nullptr;
    if (!t || t->numel() < 1 || n.i("allowzero", 0) != 0) return false;
    const int64_t first = t->as_int(0);
    if (first != 0 && first != -1) return false;
    for (int64_t k = 1; k < t->numel(); ++k)
      if (t->as_int(k) < (first == 0 ? -1 : 1)) return false;  // after a copied batch, one inferred size is per image too
    return true;
  }
  return false;
}

Tensor batch_slice(const Tensor& x, int64_t b, int64_t e) {
  Shape s = x.shape;
  const size_t row = static_cast<size_t>(x.numel() / s.at(0)) * dtype_size(x.dtype);
  s[0] = e - b;
  Tensor t(x.dtype, s);
  std::memcpy(t.bytes.data(), x.bytes.data() + static_cast<size_t>(b) * row, static_cast<size_t>(e - b) * row);
  return t;
}

Tensor batch_concat(const std::vector<Tensor>& parts) {
  const Tensor& f = parts.at(0);
  if (f.rank() < 1) fail("batch parts: a scalar output cannot be joined along the batch");
  Shape s = f.shape;
  s[0] = 0;
  for (const Tensor& p : parts) {
    Shape q = p.shape;
    if (q.empty() || p.dtype != f.dtype) fail("batch parts: outputs of different types or ranks");
    s[0] += q[0];
    q[0] = f.shape[0];
    if (q != f.shape) fail("batch parts: outputs " + shape_str(f.shape) + " and " + shape_str(p.shape) + " differ beyond the batch");
  }
  Tensor t(f.dtype, s);
  size_t at = 0;
  for (const Tensor& p : parts) {
    std::memcpy(t.bytes.data() + at, p.bytes.data(), p.bytes.size());
    at += p.bytes.size();
  }
  return t;
}

}  // namespace qfrt
