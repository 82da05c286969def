#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qforge/exec/graph_module.h"
#include "qforge/ir/builder.h"
#include "qforge/train/optimizer.h"

using namespace qforge;

TEST(Schedule, WarmupThenCosineToMinLr) {
  recipe::ScheduleConfig s;
  s.name = "cosine";
  s.warmup_epochs = 1;
  s.min_lr = 0.001;
  const int64_t spe = 10, epochs = 5;
  EXPECT_DOUBLE_EQ(train::learning_rate(s, 0.1, 0, spe, epochs), 0.01);   // first warm-up step
  EXPECT_DOUBLE_EQ(train::learning_rate(s, 0.1, 9, spe, epochs), 0.1);    // end of warm-up
  EXPECT_DOUBLE_EQ(train::learning_rate(s, 0.1, 10, spe, epochs), 0.1);   // cosine starts at the peak
  EXPECT_NEAR(train::learning_rate(s, 0.1, 30, spe, epochs), 0.001 + 0.5 * 0.099, 1e-12);  // halfway
  EXPECT_NEAR(train::learning_rate(s, 0.1, 50, spe, epochs), 0.001, 1e-12);
}

TEST(Schedule, StepAtMilestones) {
  recipe::ScheduleConfig s;
  s.name = "step";
  s.milestones = {2, 4};
  s.gamma = 0.5;
  EXPECT_DOUBLE_EQ(train::learning_rate(s, 1.0, 19, 10, 6), 1.0);
  EXPECT_DOUBLE_EQ(train::learning_rate(s, 1.0, 20, 10, 6), 0.5);
  EXPECT_DOUBLE_EQ(train::learning_rate(s, 1.0, 45, 10, 6), 0.25);
}

TEST(Optimizer, NoWeightDecayOnBatchNormAndBias) {
  ir::GraphBuilder b("m");
  std::string x = b.input("input", {-1, 2, 4, 4});
  x = b.batchnorm(b.conv(x, 2, 3, 3, 1, 1), 3);
  b.output(b.gemm(b.flatten(b.global_avgpool(x)), 3, 2));
  exec::GraphModule m(b.finish());
  recipe::OptimizerConfig c;
  c.weight_decay = 0.5;
  auto opt = train::make_optimizer(c, m);
  ASSERT_EQ(opt->param_groups().size(), 2u);
  EXPECT_EQ(opt->param_groups()[0].params().size(), 2u);  // conv and fc weights
  EXPECT_EQ(opt->param_groups()[1].params().size(), 3u);  // bn weight, bn bias, fc bias
  auto& nd = static_cast<torch::optim::SGDOptions&>(opt->param_groups()[1].options());
  EXPECT_EQ(nd.weight_decay(), 0.0);
  train::scale_learning_rate(*opt, train::group_learning_rates(*opt), 0.1);
  for (auto& g : opt->param_groups()) EXPECT_DOUBLE_EQ(g.options().get_lr(), 0.01);
  auto with_own = train::make_optimizer(c, m, {"fc.bias"}, 0.5);
  ASSERT_EQ(with_own->param_groups().size(), 3u);
  EXPECT_EQ(with_own->param_groups()[2].params().size(), 1u);
  EXPECT_DOUBLE_EQ(with_own->param_groups()[2].options().get_lr(), 0.5);
  c.decay_bn_and_bias = true;
  EXPECT_EQ(train::make_optimizer(c, m)->param_groups().size(), 1u);
  c.name = "adamw";
  EXPECT_NO_THROW(train::make_optimizer(c, m));
}
