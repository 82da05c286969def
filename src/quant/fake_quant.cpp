// Argument checks and autograd Functions around the fused loops of fake_quant_kernels.cpp.
#include "qforge/quant/fake_quant.h"

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "fake_quant_kernels.h"

namespace qforge::quant {

namespace {
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

[[noreturn]] void bad(const std::string& what) { throw std::invalid_argument(what); }

void check_args(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero_point, int64_t qmin, int64_t qmax,
                int64_t axis, const char* op) {
  const std::string o = std::string(op) + ": ";
  if (!x.defined() || x.scalar_type() != at::kFloat) bad(o + "x must be a float32 tensor");
  if (qmin > qmax) bad(o + "quant_min " + std::to_string(qmin) + " > quant_max " + std::to_string(qmax));
  if (qmin < -(1 << 23) || qmax > (1 << 23)) bad(o + "quant_min/quant_max must lie within +-2^23");
  if (axis < -1 || axis >= x.dim()) bad(o + "axis " + std::to_string(axis) + " is out of range for a " + std::to_string(x.dim()) + "-d x");
  const int64_t want = axis < 0 ? 1 : x.size(axis);
  if (!scale.defined() || scale.numel() != want)
    bad(o + "scale must hold " + std::to_string(want) + " value(s), has " + (scale.defined() ? std::to_string(scale.numel()) : "none"));
  if (!zero_point.defined() || zero_point.numel() != want)
    bad(o + "zero_point must hold " + std::to_string(want) + " value(s), has " +
        (zero_point.defined() ? std::to_string(zero_point.numel()) : "none"));
}

fq::Shape shape_of(const at::Tensor& x, int64_t axis) {
  fq::Shape s;
  if (axis < 0) {
    s.inner = x.numel();
    return s;
  }
  for (int64_t d = 0; d < axis; ++d) s.outer *= x.size(d);
  s.channels = x.size(axis);
  s.inner = 1;
  for (int64_t d = axis + 1; d < x.dim(); ++d) s.inner *= x.size(d);
  return s;
}

// Contiguous float32 parameter arrays that stay alive while a kernel runs.
struct ParamArrays {
  at::Tensor scale, inv, zp;
  fq::Params view(int64_t qmin, int64_t qmax) const {
    fq::Params p;
    p.scale = scale.data_ptr<float>();
    p.inv_scale = inv.data_ptr<float>();
    p.zero_point = zp.data_ptr<float>();
    p.qmin = static_cast<float>(qmin);
    p.qmax = static_cast<float>(qmax);
    p.threads = at::get_num_threads();
    return p;
  }
};

ParamArrays arrays(const at::Tensor& scale, const at::Tensor& zp_float) {
  ParamArrays a;
  a.scale = scale.detach().to(at::kFloat).flatten().contiguous();
  a.inv = (1.0f / a.scale).contiguous();  // float32 reciprocal, as PyTorch
  a.zp = zp_float.to(at::kFloat).flatten().contiguous();
  return a;
}

// Integer zero point as float: integer tensors as they are, float ones rounded to nearest.
at::Tensor integral_zero_point(const at::Tensor& zp) {
  at::Tensor z = zp.detach();
  return at::isFloatingType(z.scalar_type()) ? z.to(at::kFloat).round() : z.to(at::kFloat);
}

// LSQ's forward zero point: clamp(nearbyint(zp)) (PyTorch's _get_zero_point_from_tensor / round().clamp_()).
at::Tensor lsq_forward_zero_point(const at::Tensor& zp, int64_t qmin, int64_t qmax) {
  return zp.detach().to(at::kFloat).round().clamp(static_cast<double>(qmin), static_cast<double>(qmax));
}

// LSQ's backward zero point: per tensor trunc(clamp(zp + 0.5)), per channel as the forward.
at::Tensor lsq_backward_zero_point(const at::Tensor& zp, int64_t qmin, int64_t qmax, int64_t axis) {
  if (axis >= 0) return lsq_forward_zero_point(zp, qmin, qmax);
  at::Tensor z = zp.detach().to(at::kFloat) + 0.5f;
  return z.clamp(static_cast<double>(qmin), static_cast<double>(qmax)).trunc();
}

at::Tensor run_forward(const at::Tensor& x, const ParamArrays& a, int64_t qmin, int64_t qmax, int64_t axis) {
  at::Tensor y = at::empty_like(x, at::MemoryFormat::Contiguous);
  fq::affine_forward(x.data_ptr<float>(), y.data_ptr<float>(), shape_of(x, axis), a.view(qmin, qmax));
  return y;
}

struct FakeQuantAffineFn : public torch::autograd::Function<FakeQuantAffineFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zp,
                            int64_t qmin, int64_t qmax, int64_t axis) {
    const at::Tensor xc = x.contiguous();
    const at::Tensor z = integral_zero_point(zp);
    ctx->save_for_backward({xc, scale.detach(), z});
    ctx->saved_data["qmin"] = qmin;
    ctx->saved_data["qmax"] = qmax;
    ctx->saved_data["axis"] = axis;
    return run_forward(xc, arrays(scale, z), qmin, qmax, axis);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    const int64_t qmin = ctx->saved_data["qmin"].toInt(), qmax = ctx->saved_data["qmax"].toInt(),
                  axis = ctx->saved_data["axis"].toInt();
    const at::Tensor& x = saved[0];
    const at::Tensor dy = grad[0].to(at::kFloat).contiguous();
    at::Tensor dx = at::empty_like(x);
    const ParamArrays a = arrays(saved[1], saved[2]);
    fq::affine_backward(x.data_ptr<float>(), dy.data_ptr<float>(), dx.data_ptr<float>(), shape_of(x, axis), a.view(qmin, qmax));
    return {dx, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

struct LsqFn : public torch::autograd::Function<LsqFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zp,
                            int64_t qmin, int64_t qmax, int64_t axis, double grad_factor) {
    const at::Tensor xc = x.contiguous();
    ctx->save_for_backward({xc, scale, zp});
    ctx->saved_data["qmin"] = qmin;
    ctx->saved_data["qmax"] = qmax;
    ctx->saved_data["axis"] = axis;
    ctx->saved_data["gf"] = grad_factor;
    return run_forward(xc, arrays(scale, lsq_forward_zero_point(zp, qmin, qmax)), qmin, qmax, axis);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    const int64_t qmin = ctx->saved_data["qmin"].toInt(), qmax = ctx->saved_data["qmax"].toInt(),
                  axis = ctx->saved_data["axis"].toInt();
    const float gf = static_cast<float>(ctx->saved_data["gf"].toDouble());
    const at::Tensor& x = saved[0];
    const at::Tensor& scale = saved[1];
    const at::Tensor& zp = saved[2];
    const at::Tensor dy = grad[0].to(at::kFloat).contiguous();
    at::Tensor dx = at::empty_like(x);
    const ParamArrays a = arrays(scale, lsq_backward_zero_point(zp, qmin, qmax, axis));
    const fq::Shape s = shape_of(x, axis);
    std::vector<double> ds(static_cast<size_t>(s.channels)), dz(static_cast<size_t>(s.channels));
    fq::lsq_backward(x.data_ptr<float>(), dy.data_ptr<float>(), dx.data_ptr<float>(), ds.data(), dz.data(), s,
                     a.view(qmin, qmax), gf);
    const auto opt = at::TensorOptions().dtype(at::kDouble);
    at::Tensor dscale = at::tensor(ds, opt).to(scale.scalar_type()).reshape(scale.sizes());
    at::Tensor dzp = at::tensor(dz, opt).to(zp.scalar_type()).reshape(zp.sizes());
    return {dx, dscale, dzp, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};
}  // namespace

at::Tensor fake_quant_affine(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero_point,
                             int64_t quant_min, int64_t quant_max, int64_t axis) {
  check_args(x, scale, zero_point, quant_min, quant_max, axis, "fake_quant_affine");
  return FakeQuantAffineFn::apply(x, scale, zero_point, quant_min, quant_max, axis);
}

at::Tensor lsq_fake_quant(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero_point,
                          int64_t quant_min, int64_t quant_max, int64_t axis, double grad_factor) {
  check_args(x, scale, zero_point, quant_min, quant_max, axis, "lsq_fake_quant");
  if (quant_min > 0 || quant_max < 0) bad("lsq_fake_quant: the grid [quant_min, quant_max] must contain 0");
  if (!at::isFloatingType(scale.scalar_type()) || !at::isFloatingType(zero_point.scalar_type()))
    bad("lsq_fake_quant: scale and zero_point must be floating-point tensors");
  return LsqFn::apply(x, scale, zero_point, quant_min, quant_max, axis, grad_factor);
}

}  // namespace qforge::quant
