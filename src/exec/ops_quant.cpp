// QuantizeLinear / DequantizeLinear (ONNX opset 13): how a QDQ model carries its quantization.
// Running them here lets qforge evaluate the QDQ files it exports, and ONNX's node tests check them.
// Also qforge's own CodebookQuantize / CodebookDequantize (domain ai.qforge, quant/qdq.h).
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

// ai.qforge CodebookQuantize(x, thresholds): uint8 count(thresholds < x), thresholds ascending (<= 255).
Ins codebook_quantize(const ir::Node& n, const Ins& in, OpContext&) {
  const at::Tensor x = input(n, in, 0).to(at::kFloat).contiguous();
  const at::Tensor thr = input(n, in, 1).to(at::kFloat).flatten().contiguous();
  if (thr.numel() > 255) op_error(n, "a codebook has at most 256 levels (255 thresholds), got " + std::to_string(thr.numel()));
  return {at::bucketize(x, thr).to(at::kByte)};
}

// ai.qforge CodebookDequantize(index, levels[, axis]): levels[index], levels [L] or [C, L] along axis.
Ins codebook_dequantize(const ir::Node& n, const Ins& in, OpContext&) {
  const at::Tensor idx = input(n, in, 0).to(at::kLong);
  const at::Tensor lv = input(n, in, 1).to(at::kFloat);
  const int64_t L = lv.size(-1);
  if (idx.numel() > 0 && idx.max().item<int64_t>() >= L) op_error(n, "an index is outside the " + std::to_string(L) + " levels");
  if (lv.dim() == 1) return {lv.index_select(0, idx.flatten()).view(idx.sizes())};
  if (lv.dim() != 2) op_error(n, "levels must be [L] or [C, L]");
  int64_t axis = n.attrs.i("axis", 0);
  if (axis < 0) axis += idx.dim();
  if (axis < 0 || axis >= idx.dim() || idx.size(axis) != lv.size(0))
    op_error(n, "per-channel levels of " + std::to_string(lv.size(0)) + " rows do not match axis " + std::to_string(axis));
  const at::Tensor moved = idx.movedim(axis, 0).reshape({lv.size(0), -1});
  const at::Tensor y = lv.gather(1, moved);
  std::vector<int64_t> shape = idx.movedim(axis, 0).sizes().vec();
  return {y.view(shape).movedim(0, axis).contiguous()};
}
}  // namespace

void register_quant_ops(OpRegistry& r) {
  r.add("QuantizeLinear", quantize_linear);
  r.add("DequantizeLinear", dequantize_linear);
  r.add("CodebookQuantize", codebook_quantize);
  r.add("CodebookDequantize", codebook_dequantize);
}

}  // namespace qforge::exec
