// Resize (opset 11-17; Upsample and Resize-10 are rewritten to it on import): nearest, linear and cubic
// interpolation with every coordinate transformation mode, applied one axis at a time. The taps per
// output index follow ONNX's reference: the input coordinate x, its neighbours around floor(x) (edge
// values beyond the border), weights from the fractional part r in (0, 1].
#include <cmath>

#include "qforge/exec/op_registry.h"
#include "qforge/exec/tensor_convert.h"

namespace qforge::exec {

namespace {
using Ins = std::vector<at::Tensor>;

struct Taps {
  std::vector<std::vector<int64_t>> index;  // [tap][output position]
  std::vector<std::vector<double>> weight;  // [tap][output position]
  std::vector<bool> outside;                // tf_crop_and_resize: position maps outside the input
};

struct ResizeAttrs {
  std::string mode, transform, nearest;
  double cubic_a, extrapolation;
  bool exclude_outside;
};

double source_coordinate(const ir::Node& n, const ResizeAttrs& a, int64_t i, double scale, int64_t in_len,
                         double roi_start, double roi_end, bool& outside) {
  const double out_w = scale * static_cast<double>(in_len);  // as the reference: not the rounded size
  const double x = static_cast<double>(i);
  const std::string& t = a.transform;
  if (t == "half_pixel") return (x + 0.5) / scale - 0.5;
  if (t == "pytorch_half_pixel") return out_w == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
  if (t == "align_corners") return out_w == 1 ? 0.0 : x * static_cast<double>(in_len - 1) / (out_w - 1);
  if (t == "asymmetric") return x / scale;
  if (t == "tf_half_pixel_for_nn") return (x + 0.5) / scale;
  if (t == "tf_crop_and_resize") {
    const double len1 = static_cast<double>(in_len - 1);
    const double xo = out_w > 1 ? roi_start * len1 + x * (roi_end - roi_start) * len1 / (out_w - 1)
                                : 0.5 * (roi_start + roi_end) * len1;
    outside = xo < 0 || xo > len1;
    return xo;
  }
  op_error(n, "coordinate_transformation_mode '" + t + "' is not supported");
}

std::vector<double> coefficients(const ir::Node& n, const ResizeAttrs& a, double r) {
  if (a.mode == "nearest") {
    if (r == 1.0) return {0, 1};
    const std::string& m = a.nearest;
    if (m == "round_prefer_floor") return {r <= 0.5 ? 1.0 : 0.0, r > 0.5 ? 1.0 : 0.0};
    if (m == "round_prefer_ceil") return {r < 0.5 ? 1.0 : 0.0, r >= 0.5 ? 1.0 : 0.0};
    if (m == "floor") return {1, 0};
    if (m == "ceil") return {0, 1};
    op_error(n, "nearest_mode '" + m + "' is not one of round_prefer_floor, round_prefer_ceil, floor, ceil");
  }
  if (a.mode == "linear") return {1 - r, r};
  if (a.mode == "cubic") {
    const double A = a.cubic_a, s = 1 - r;
    return {((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A, ((A + 2) * r - (A + 3)) * r * r + 1,
            ((A + 2) * s - (A + 3)) * s * s + 1, ((A * (s + 1) - 5 * A) * (s + 1) + 8 * A) * (s + 1) - 4 * A};
  }
  op_error(n, "mode '" + a.mode + "' is not one of nearest, linear, cubic");
}

Taps taps(const ir::Node& n, const ResizeAttrs& a, int64_t in_len, int64_t out_len, double scale, double roi_start,
          double roi_end) {
  Taps t;
  const size_t k = a.mode == "cubic" ? 4 : 2;
  t.index.assign(k, std::vector<int64_t>(static_cast<size_t>(out_len)));
  t.weight.assign(k, std::vector<double>(static_cast<size_t>(out_len)));
  t.outside.assign(static_cast<size_t>(out_len), false);
  for (int64_t i = 0; i < out_len; ++i) {
    bool outside = false;
    const double x = source_coordinate(n, a, i, scale, in_len, roi_start, roi_end, outside);
    t.outside[i] = outside;
    // base = the left neighbour, r in (0, 1]: an integer x is reached from its left with r = 1.
    double base = std::floor(x);
    if (base == x) base -= 1;
    const double r = x - base;
    std::vector<double> c = coefficients(n, a, r);
    const int64_t first = static_cast<int64_t>(base) - (k == 4 ? 1 : 0);
    double sum = 0;
    for (size_t j = 0; j < k; ++j) {
      const int64_t idx = first + static_cast<int64_t>(j);
      if (a.exclude_outside && (idx < 0 || idx >= in_len)) c[j] = 0;
      sum += c[j];
      t.index[j][i] = std::max<int64_t>(0, std::min(in_len - 1, idx));  // edge padding
    }
    for (size_t j = 0; j < k; ++j) t.weight[j][i] = a.exclude_outside && sum != 0 ? c[j] / sum : c[j];
  }
  return t;
}

at::Tensor resample_axis(const ir::Node& n, const ResizeAttrs& a, const at::Tensor& x, int64_t axis, int64_t out_len,
                         double scale, double roi_start, double roi_end) {
  const Taps t = taps(n, a, x.size(axis), out_len, scale, roi_start, roi_end);
  std::vector<int64_t> wshape(static_cast<size_t>(x.dim()), 1);
  wshape[axis] = out_len;
  at::Tensor out;
  if (a.mode == "nearest") {  // one tap carries the whole weight: an exact gather, any dtype
    std::vector<int64_t> pick(static_cast<size_t>(out_len));
    for (int64_t i = 0; i < out_len; ++i) pick[i] = t.weight[0][i] > 0.5 ? t.index[0][i] : t.index[1][i];
    out = x.index_select(axis, at::tensor(pick, at::kLong));
  } else {
    const at::Tensor xf = x.is_floating_point() ? x : x.to(at::kFloat);
    for (size_t j = 0; j < t.index.size(); ++j) {
      at::Tensor w = at::tensor(t.weight[j], at::kDouble).to(xf.scalar_type()).reshape(wshape);
      at::Tensor term = xf.index_select(axis, at::tensor(t.index[j], at::kLong)) * w;
      out = out.defined() ? out + term : term;
    }
    out = out.to(x.scalar_type());
  }
  if (a.transform == "tf_crop_and_resize") {
    std::vector<uint8_t> m(t.outside.begin(), t.outside.end());
    at::Tensor mask = at::tensor(at::ArrayRef<uint8_t>(m)).to(at::kBool).reshape(wshape);
    out = at::where(mask, at::full({}, a.extrapolation, out.options()), out);
  }
  return out;
}

std::vector<double> doubles_of(const at::Tensor& t) {
  at::Tensor c = t.to(at::kCPU).to(at::kDouble).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

Ins resize(const ir::Node& n, const Ins& in, OpContext&) {
  const at::Tensor& x = input(n, in, 0);
  const at::Tensor &roi_t = input(n, in, 1), &scales_t = input(n, in, 2), &sizes_t = input(n, in, 3);
  ResizeAttrs a{n.attrs.s("mode", "nearest"), n.attrs.s("coordinate_transformation_mode", "half_pixel"),
                n.attrs.s("nearest_mode", "round_prefer_floor"), n.attrs.f("cubic_coeff_a", -0.75),
                n.attrs.f("extrapolation_value", 0.0), n.attrs.i("exclude_outside", 0) != 0};
  const int64_t rank = x.dim();
  std::vector<double> scales(static_cast<size_t>(rank), 1.0), roi;
  std::vector<int64_t> sizes(x.sizes().begin(), x.sizes().end());
  if (scales_t.defined() && scales_t.numel() > 0) {
    scales = doubles_of(scales_t);
    if (static_cast<int64_t>(scales.size()) != rank) op_error(n, "scales has " + std::to_string(scales.size()) + " entries for rank " + std::to_string(rank));
    for (int64_t d = 0; d < rank; ++d) {
      if (!(scales[d] > 0)) op_error(n, "scale " + std::to_string(scales[d]) + " must be positive");
      sizes[d] = static_cast<int64_t>(std::floor(static_cast<double>(x.size(d)) * scales[d]));
    }
  } else if (sizes_t.defined() && sizes_t.numel() > 0) {
    sizes = int64_values(sizes_t);
    if (static_cast<int64_t>(sizes.size()) != rank)
      op_error(n, "sizes has " + std::to_string(sizes.size()) + " entries for rank " + std::to_string(rank));
    for (int64_t d = 0; d < rank; ++d) {
      scales[d] = static_cast<double>(sizes[d]) / static_cast<double>(x.size(d));
    }
  } else {
    op_error(n, "needs scales or sizes");
  }
  if (a.transform == "tf_crop_and_resize") {
    if (!roi_t.defined() || roi_t.numel() != 2 * rank) op_error(n, "tf_crop_and_resize needs roi with 2 x rank entries");
    roi = doubles_of(roi_t);
  }
  at::Tensor out = x;
  for (int64_t d = 0; d < rank; ++d) {
    const bool crop = !roi.empty() && (roi[d] != 0 || roi[d + rank] != 1);
    if (sizes[d] == x.size(d) && scales[d] == 1.0 && !crop) continue;
    out = resample_axis(n, a, out, d, sizes[d], scales[d], roi.empty() ? 0 : roi[d], roi.empty() ? 1 : roi[d + rank]);
  }
  return {out};
}
}  // namespace

void register_resize_ops(OpRegistry& r) { r.add("Resize", resize); }

}  // namespace qforge::exec
