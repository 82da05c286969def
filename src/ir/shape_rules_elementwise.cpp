// Shape-preserving ops (activations, Identity, Dropout, Softmax, FakeQuant, Quantize/DequantizeLinear) and the broadcasting
// binary arithmetic ops Add, Sub, Mul, Div, and the variadic Min, Max.
#include "shape_rules.h"

namespace qforge::ir::shape {

namespace {

std::vector<ValueInfo> unary(const Ctx& c) {
  c.arity(1, 1);
  return {info(c.in(0).dtype, c.shape(0))};
}

std::vector<ValueInfo> clip(const Ctx& c) {
  c.arity(1, 3);
  for (size_t k = 1; k < 3; ++k)
    if (c.has(k) && numel(c.shape(k)) != 1)
      c.fail(std::string(k == 1 ? "min " : "max ") + str(c.shape(k)) + " must be a scalar");
  return {info(c.in(0).dtype, c.shape(0))};
}

std::vector<ValueInfo> prelu(const Ctx& c) {
  c.arity(2, 2);
  const std::vector<int64_t>&x = c.shape(0), &slope = c.shape(1);
  if (!broadcasts_to(slope, x)) c.fail("slope " + str(slope) + " does not broadcast to input " + str(x));
  return {info(c.in(0).dtype, x)};
}

std::vector<ValueInfo> dropout(const Ctx& c) {
  c.arity(1, 3);  // data, ratio, training_mode
  return {info(c.in(0).dtype, c.shape(0)), info(DType::Bool, c.shape(0))};
}

std::vector<ValueInfo> softmax(const Ctx& c) {
  c.arity(1, 1);
  const std::vector<int64_t>& x = c.shape(0);
  axis(c, c.attrs().i("axis", -1), static_cast<int64_t>(x.size()));
  return {info(c.in(0).dtype, x)};
}

std::vector<ValueInfo> arithmetic(const Ctx& c) {
  c.arity(2, 2);
  const ValueInfo &a = c.in(0), &b = c.in(1);
  if (a.dtype != b.dtype)
    c.fail(std::string("operand types differ: ") + dtype_name(a.dtype) + " " + str(a.shape) + " and " +
           dtype_name(b.dtype) + " " + str(b.shape));
  return {info(a.dtype, broadcast(c, a.shape, b.shape))};
}

// Min / Max(X1, ..., Xn): all of one type, broadcast together.
std::vector<ValueInfo> variadic_minmax(const Ctx& c) {
  if (c.num_inputs() < 1) c.fail("takes at least 1 input, got 0");
  std::vector<int64_t> shape = c.shape(0);
  for (size_t k = 1; k < c.num_inputs(); ++k) {
    if (c.in(k).dtype != c.in(0).dtype)
      c.fail(std::string("operand types differ: ") + dtype_name(c.in(0).dtype) + " and " + dtype_name(c.in(k).dtype));
    shape = broadcast(c, shape, c.shape(k));
  }
  return {info(c.in(0).dtype, shape)};
}

// Pow(X, Y): broadcast, in X's type (Y may be of another numeric type).
std::vector<ValueInfo> power(const Ctx& c) {
  c.arity(2, 2);
  return {info(c.in(0).dtype, broadcast(c, c.shape(0), c.shape(1)))};
}

// The quantization pass's FakeQuant(x, params..., initialized): same shape and type as x.
std::vector<ValueInfo> fake_quant(const Ctx& c) {
  if (c.num_inputs() < 1) c.fail("takes at least 1 input, got 0");
  return {info(c.in(0).dtype, c.shape(0))};
}

// QuantizeLinear(x, scale, zero_point?): x's shape in the zero point's type (uint8 without one).
std::vector<ValueInfo> quantize_linear(const Ctx& c) {
  c.arity(2, 3);
  return {info(c.has(2) ? c.in(2).dtype : DType::UInt8, c.shape(0))};
}

// DequantizeLinear(x, scale, zero_point?): float32 of x's shape.
std::vector<ValueInfo> dequantize_linear(const Ctx& c) {
  c.arity(2, 3);
  return {info(DType::Float32, c.shape(0))};
}

// ai.qforge CodebookQuantize(x, thresholds): uint8 indices of x's shape.
std::vector<ValueInfo> codebook_quantize(const Ctx& c) {
  c.arity(2, 2);
  return {info(DType::UInt8, c.shape(0))};
}

// ai.qforge CodebookDequantize(index, levels): float32 of index's shape.
std::vector<ValueInfo> codebook_dequantize(const Ctx& c) {
  c.arity(2, 2);
  return {info(DType::Float32, c.shape(0))};
}

}  // namespace

void add_elementwise_rules(std::map<std::string, Rule>& r) {
  for (const char* op : {"Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Identity", "Sqrt", "Exp",
                         "Log", "Neg", "Abs", "Reciprocal", "Floor", "Ceil"})
    r[op] = unary;
  r["Pow"] = power;
  r["Min"] = variadic_minmax;
  r["Max"] = variadic_minmax;
  r["Clip"] = clip;
  r["PRelu"] = prelu;
  r["Dropout"] = dropout;
  r["Softmax"] = softmax;
  r["LogSoftmax"] = softmax;
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) r[op] = arithmetic;
  r["FakeQuant"] = fake_quant;
  r["BnFoldWeight"] = fake_quant;  // quant/bn_fold.h: per-channel scalings, shape-preserving
  r["BnUnfold"] = fake_quant;
  r["QuantizeLinear"] = quantize_linear;
  r["DequantizeLinear"] = dequantize_linear;
  r["CodebookQuantize"] = codebook_quantize;
  r["CodebookDequantize"] = codebook_dequantize;
}

}  // namespace qforge::ir::shape
