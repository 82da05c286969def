// uniform, lsq, lsq_plus: initialization from their papers, level counts, gradients.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "qforge/exec/tensor_convert.h"
#include "qforge/quant/config.h"
#include "qforge/quant/fake_quant_node.h"

using namespace qforge;

namespace {
struct Q {
  const quant::QuantMethod* m;
  quant::QuantizerConfig c;
  quant::Role r;
  std::vector<at::Tensor> p;
};

Q make(const std::string& yaml, quant::Role r, const std::vector<int64_t>& shape) {
  quant::register_quantization();
  Q q;
  q.r = r;
  q.c = quant::resolve_quantizer(YAML::Load(yaml), r, "quantize.test");
  q.m = &quant::method(q.c.method);
  for (auto& ps : q.m->params(q.c, r, shape)) {
    at::Tensor t = exec::to_aten(ps.init);
    if (ps.trainable) t.set_requires_grad(true);
    q.p.push_back(t);
  }
  return q;
}

at::Tensor run(Q& q, const at::Tensor& x, bool init = true) {
  if (init) {
    at::NoGradGuard g;
    q.m->initialize(x.detach(), q.c, q.r, q.p);
  }
  return q.m->forward(x, q.c, q.r, q.p, true);
}

int64_t distinct(const at::Tensor& t) { return std::get<0>(at::_unique(t.detach().flatten())).numel(); }
}  // namespace

TEST(Lsq, StepInitAndLevels) {
  Q q = make("{method: lsq, bits: 4, per_channel: false}", quant::Role::Weight, {8, 3, 3, 3});
  at::Tensor w = torch::randn({8, 3, 3, 3});
  at::Tensor y = run(q, w.requires_grad_());
  // Esser et al.: s0 = 2 <|w|> / sqrt(Qp), Qp = 7 for signed 4-bit
  EXPECT_NEAR(q.p[0].item<float>(), 2 * w.abs().mean().item<float>() / std::sqrt(7.f), 1e-6);
  EXPECT_LE(distinct(y), 16);
  EXPECT_LE((y / q.p[0]).round().max().item<float>(), 7);
  EXPECT_GE((y / q.p[0]).round().min().item<float>(), -8);
  y.pow(2).sum().backward();
  EXPECT_TRUE(q.p[0].grad().defined());
  EXPECT_NE(q.p[0].grad().item<float>(), 0.f);
  EXPECT_TRUE(w.grad().defined());
}

TEST(Lsq, PerChannelAndUnsignedActivations) {
  Q w = make("{method: lsq, bits: 3, per_channel: true}", quant::Role::Weight, {4, 5});
  at::Tensor x = torch::randn({4, 5}) * torch::tensor({1.0, 2.0, 4.0, 8.0}).view({4, 1});
  run(w, x);
  ASSERT_EQ(w.p[0].numel(), 4);
  EXPECT_GT(w.p[0][3].item<float>(), w.p[0][0].item<float>());
  Q a = make("{method: lsq, bits: 2, signed: false}", quant::Role::Activation, {});
  at::Tensor y = run(a, torch::rand({16, 8}) * 3);
  EXPECT_LE(distinct(y), 4);
  EXPECT_GE(y.min().item<float>(), 0.f);
}

TEST(LsqPlus, ActivationOffsetFromRange) {
  Q a = make("{method: lsq_plus, bits: 4, signed: false, mse_init: 0}", quant::Role::Activation, {});
  at::Tensor x = torch::linspace(-1, 3, 101).view({1, 101});
  at::Tensor y = run(a, x.clone().requires_grad_());
  EXPECT_NEAR(a.p[0].item<float>(), 4.0 / 15, 1e-6);      // s = (max - min) / (2^b - 1)
  EXPECT_NEAR(a.p[1].item<float>(), 0 + 1 / (4.0 / 15), 1e-4);  // zp = qmin - min / s
  // negative values survive, on the grid of the rounded zero point (4): min level -4 s
  EXPECT_NEAR(y.min().item<float>(), -4 * 4.0 / 15, 1e-5);
  y.sum().backward();
  EXPECT_TRUE(a.p[1].grad().defined());  // the offset is learned
}

// The paper's initialization: the clipping range of least quantization MSE on the first batch. An outlier
// no longer sets the step; evenly spread data keeps (nearly) its whole range, negative part included.
TEST(LsqPlus, ActivationInitializationMinimizesTheError) {
  at::Tensor x = torch::cat({torch::linspace(0, 1, 40000), torch::tensor({50.f})}).view({1, -1});
  Q minmax = make("{method: lsq_plus, bits: 4, signed: false, mse_init: 0}", quant::Role::Activation, {});
  Q mse = make("{method: lsq_plus, bits: 4, signed: false}", quant::Role::Activation, {});
  const double err_minmax = (run(minmax, x) - x).pow(2).sum().item<double>();
  const double err_mse = (run(mse, x) - x).pow(2).sum().item<double>();
  EXPECT_NEAR(minmax.p[0].item<float>(), 50.0 / 15, 1e-5);
  // Clipped near the bulk of the data (the grid's candidates are multiples of 50 / 32), not at 50.
  EXPECT_LT(mse.p[0].item<float>(), 0.25);
  EXPECT_LT(err_mse, 0.25 * err_minmax);
  Q spread = make("{method: lsq_plus, bits: 4, signed: false}", quant::Role::Activation, {});
  at::Tensor s = torch::linspace(-1, 3, 1001).view({1, -1});
  at::Tensor y = run(spread, s);
  EXPECT_GT(spread.p[0].item<float>(), 0.8 * 4.0 / 15);
  EXPECT_LE(spread.p[0].item<float>(), 4.0 / 15 + 1e-6);
  EXPECT_LT(y.min().item<float>(), -0.5);  // the offset keeps negative values
}

TEST(Uniform, SymmetricAndAffineRanges) {
  Q s = make("{method: uniform, bits: 8, per_channel: false}", quant::Role::Weight, {2, 3});
  at::Tensor w = torch::tensor({{-1.0, 0.5, 0.25}, {2.0, -0.5, 0.0}});
  run(s, w);
  EXPECT_NEAR(s.p[0].item<float>(), 2.0 / 127.5, 1e-7);  // max|w| / ((qmax - qmin) / 2)
  EXPECT_EQ(s.p[1].item<float>(), 0.f);
  Q a = make("{method: uniform, bits: 8, signed: false, symmetric: 0}", quant::Role::Activation, {});
  run(a, torch::tensor({{-1.0, 3.0}}));
  EXPECT_NEAR(a.p[0].item<float>(), 4.0 / 255, 1e-7);
  EXPECT_EQ(a.p[1].item<float>(), std::nearbyint(1.0 / (4.0 / 255)));
  Q pc = make("{method: uniform, bits: 4, per_channel: true}", quant::Role::Weight, {2, 3});
  at::Tensor y = run(pc, w);
  EXPECT_LE(distinct(y[0]), 16);
  EXPECT_NEAR(pc.p[0][1].item<float>(), 2.0 / 7.5, 1e-6);
}

TEST(Uniform, ActivationRangeIsAMovingAverage) {
  Q a = make("{method: uniform, bits: 8, signed: false, momentum: 0.5}", quant::Role::Activation, {});
  run(a, torch::full({1, 4}, 2.0));
  run(a, torch::full({1, 4}, 4.0), false);
  EXPECT_NEAR(a.p[3].item<float>(), 3.0, 1e-6);  // 0.5 * 2 + 0.5 * 4
}

TEST(QuantConfig, BitsAndRolesAreChecked) {
  quant::register_quantization();
  EXPECT_THROW(quant::resolve_quantizer(YAML::Load("{method: lsq, bits: 1}"), quant::Role::Weight, "k"), std::runtime_error);
  EXPECT_THROW(quant::resolve_quantizer(YAML::Load("{method: lsq, per_channel: true}"), quant::Role::Activation, "k"),
               std::runtime_error);
  EXPECT_THROW(quant::resolve_quantizer(YAML::Load("{method: uniform, symmetric: maybe}"), quant::Role::Weight, "k"),
               std::runtime_error);
}
