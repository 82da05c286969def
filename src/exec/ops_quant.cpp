// QuantizeLinear / DequantizeLinear (ONNX opset 13): how a QDQ model carries its quantization.
// Running them here lets qforge evaluate the QDQ files it exports, and ONNX's node tests check them.
#include "qforge/exec/op_registry.h"

namespace qforge::exec {

namespace {
using Ins = std::vector<at::Tensor>;

// Scale / zero point shaped to broadcast along `axis` of x (per-axis when they have > 1 value).
at::Tensor along_axis(const ir::Node& n, const at::Tensor& x, const at::Tensor& p) {
  if (p.dim() == 0 || p.numel() == 1) return p.reshape({});
  int64_t axis = n.attrs.i("axis", 1);
  if (axis < 0) axis += x.dim();
  if (axis < 0 || axis >= x.dim() || x.size(axis) != p.numel())
    op_error(n, "per-axis scale/zero point of " + std::to_string(p.numel()) + " values does not match axis " +
                    std::to_string(n.attrs.i("axis", 1)) + " of the input");
  std::vector<int64_t> shape(x.dim(), 1);
  shape[axis] = p.numel();
  return p.reshape(shape);
}

Ins quantize_linear(const ir::Node& n, const Ins& in, OpContext&) {
  const at::Tensor& x = input(n, in, 0);
  const at::Tensor& zp_in = input(n, in, 2);
  const at::ScalarType out_type = zp_in.defined() ? zp_in.scalar_type() : at::kByte;
  if (out_type != at::kByte && out_type != at::kChar) op_error(n, "zero point must be uint8 or int8");
  const double lo = out_type == at::kByte ? 0 : -128, hi = out_type == at::kByte ? 255 : 127;
  at::Tensor scale = along_axis(n, x, input(n, in, 1).to(at::kFloat));
  at::Tensor zp = zp_in.defined() ? along_axis(n, x, zp_in.to(at::kFloat)) : at::zeros({}, at::kFloat);
  // ONNX: saturate(round_half_to_even(x / scale) + zero_point), computed in float32 as ORT does.
  return {(x.to(at::kFloat) / scale).round().add(zp).clamp(lo, hi).to(out_type)};
}

Ins dequantize_linear(const ir::Node& n, const Ins& in, OpContext&) {
  const at::Tensor& x = input(n, in, 0);
  const at::Tensor& zp_in = input(n, in, 2);
  at::Tensor scale = along_axis(n, x, input(n, in, 1).to(at::kFloat));
  at::Tensor xf = x.to(at::kFloat);
  if (zp_in.defined()) xf = xf - along_axis(n, x, zp_in.to(at::kFloat));
  return {xf * scale};
}
}  // namespace

void register_quant_ops(OpRegistry& r) {
  r.add("QuantizeLinear", quantize_linear);
  r.add("DequantizeLinear", dequantize_linear);
}

}  // namespace qforge::exec
