// Defaults, round trip through to_yaml, equality, subset sizes.
#include <gtest/gtest.h>

#include "qforge/recipe/recipe.h"

using namespace qforge::recipe;

TEST(RecipeDefaults, MinimalRecipeGetsDocumentedDefaults) {
  Recipe r = parse_recipe("model: {zoo: lenet5}\n", {}, "min.yaml");
  EXPECT_EQ(r.source_path, "min.yaml");
  EXPECT_EQ(r.model.zoo, "lenet5");
  EXPECT_EQ(r.model.onnx, "");
  EXPECT_EQ(r.model.in_channels, 1);
  EXPECT_EQ(r.model.num_classes, 10);
  EXPECT_EQ(r.model.width, 1.0);
  EXPECT_EQ(r.model.input_size, (std::vector<int>{28, 28}));
  EXPECT_EQ(r.data.name, "fashion-mnist");
  EXPECT_EQ(r.data.root, "");
  EXPECT_EQ(r.data.subset, 0);
  EXPECT_EQ(r.data.test_subset, 0);
  EXPECT_EQ(r.data.workers, 2);
  EXPECT_EQ(r.data.augment.crop_padding, 0);
  EXPECT_FALSE(r.data.augment.hflip);
  EXPECT_EQ(r.data.augment.resize, 0);
  EXPECT_EQ(r.data.augment.center_crop, 0);
  EXPECT_TRUE(r.data.normalize.mean.empty());
  EXPECT_TRUE(r.data.normalize.std.empty());
  EXPECT_EQ(r.train.epochs, 1);
  EXPECT_EQ(r.train.batch_size, 128);
  EXPECT_EQ(r.train.eval_batch_size, 512);
  EXPECT_EQ(r.train.seed, 0u);
  EXPECT_EQ(r.train.threads, 0);
  EXPECT_EQ(r.train.label_smoothing, 0.0);
  EXPECT_EQ(r.train.log_every, 50);
  EXPECT_EQ(r.train.checkpoint_every, 1);
  EXPECT_EQ(r.train.eval_every, 1);
  EXPECT_EQ(r.train.device, "cpu");
  EXPECT_EQ(r.train.optimizer.name, "sgd");
  EXPECT_EQ(r.train.optimizer.lr, 0.1);
  EXPECT_EQ(r.train.optimizer.momentum, 0.9);
  EXPECT_FALSE(r.train.optimizer.nesterov);
  EXPECT_EQ(r.train.optimizer.weight_decay, 0.0);
  EXPECT_FALSE(r.train.optimizer.decay_bn_and_bias);
  EXPECT_EQ(r.train.optimizer.betas, (std::vector<double>{0.9, 0.999}));
  EXPECT_EQ(r.train.optimizer.eps, 1e-8);
  EXPECT_EQ(r.train.schedule.name, "cosine");
  EXPECT_EQ(r.train.schedule.warmup_epochs, 0);
  EXPECT_TRUE(r.train.schedule.milestones.empty());
  EXPECT_EQ(r.train.schedule.gamma, 0.1);
  EXPECT_EQ(r.train.schedule.min_lr, 0.0);
  EXPECT_EQ(r.init, "");
  EXPECT_TRUE(r.quantize.IsNull());
}

TEST(RecipeDefaults, EmptySectionsAndNullStringsMeanDefaults) {
  Recipe r = parse_recipe("model: {onnx: m.onnx, zoo: ~}\ndata:\ntrain: {}\ninit:\n", {}, "x");
  EXPECT_EQ(r.model.onnx, "m.onnx");
  EXPECT_EQ(r.model.zoo, "");
  EXPECT_EQ(r.train.epochs, 1);
  EXPECT_EQ(r.init, "");
}

TEST(RecipeDefaults, DefaultRecipeRoundTrips) {
  Recipe r = parse_recipe("model: {zoo: lenet5}\n", {}, "a");
  Recipe back = parse_recipe(to_yaml(r), {}, "b");
  EXPECT_EQ(back, r);
  // Every key is written out, defaults included.
  std::string y = to_yaml(r);
  for (const char* key : {"zoo:", "onnx:", "input_size:", "augment:", "center_crop:", "normalize:",
                          "eval_batch_size:", "decay_bn_and_bias:", "betas:", "milestones:",
                          "min_lr:", "init:"})
    EXPECT_NE(y.find(key), std::string::npos) << key << " missing in\n" << y;
  EXPECT_EQ(y.find("quantize"), std::string::npos);
}

const char* kFull = R"(
model: {zoo: resnet20, in_channels: 3, num_classes: 100, width: 0.75, input_size: [32, 30]}
data:
  name: cifar10
  root: "/data/cifar 10"
  subset: 0.25
  test_subset: 1000
  workers: 0
  augment: {crop_padding: 4, hflip: true, resize: 36, center_crop: 32}
  normalize: {mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616]}
train:
  epochs: 7
  batch_size: 64
  eval_batch_size: 1000
  seed: 18446744073709551615
  threads: 2
  label_smoothing: 0.1
  log_every: 0
  checkpoint_every: 3
  eval_every: 2
  device: "cuda:1"
  optimizer: {name: adamw, lr: 3.0e-4, momentum: 0.0, nesterov: false, weight_decay: 0.05,
              decay_bn_and_bias: true, betas: [0.8, 0.95], eps: 1.0e-6}
  schedule: {name: step, warmup_epochs: 2, milestones: [3, 5], gamma: 0.5, min_lr: 1.0e-5}
init: "runs/x y/best.ckpt"
quantize:
  weights: {method: lsq, bits: 4, per_channel: true}
  activations: {method: lsq, bits: "4"}
  keep_float: [first, last]
  overrides: [{match: "layer3\\..*", weights: {bits: 2}}]
  odd: ["~", "true", null, "12"]
)";

TEST(RecipeRoundTrip, EveryKeySetRoundTripsThroughToYaml) {
  Recipe r = parse_recipe(kFull, {}, "full.yaml");
  EXPECT_EQ(r.model.width, 0.75);
  EXPECT_EQ(r.data.root, "/data/cifar 10");
  EXPECT_EQ(r.data.subset, 0.25);
  EXPECT_EQ(r.data.test_subset, 1000);
  EXPECT_EQ(r.train.seed, 18446744073709551615ull);
  EXPECT_EQ(r.train.optimizer.lr, 3.0e-4);
  EXPECT_EQ(r.train.schedule.milestones, (std::vector<int>{3, 5}));
  EXPECT_EQ(r.train.device, "cuda:1");
  EXPECT_EQ(r.quantize["weights"]["bits"].as<int>(), 4);

  std::string y = to_yaml(r);
  Recipe back = parse_recipe(y, {}, "emitted");
  EXPECT_EQ(back, r) << y;
  EXPECT_EQ(to_yaml(back), y);  // emitting is stable
  EXPECT_EQ(back.quantize["overrides"][0]["match"].as<std::string>(), "layer3\\..*");
  EXPECT_EQ(back.quantize["odd"][0].as<std::string>(), "~");
  EXPECT_TRUE(back.quantize["odd"][2].IsNull());
}

TEST(RecipeRoundTrip, StringsThatLookLikeOtherTypesSurvive) {
  Recipe r = parse_recipe("model: {zoo: lenet5}\n", {}, "a");
  for (std::string s : {"~", "null", "true", "12", "1e3", "", "a: b", "#x", "[1]", "it's \"q\""}) {
    r.init = s;
    r.data.root = s;
    Recipe back = parse_recipe(to_yaml(r), {}, "b");
    EXPECT_EQ(back.init, s) << to_yaml(r);
    EXPECT_EQ(back, r);
  }
}

TEST(RecipeRoundTrip, DoublesRoundTripExactly) {
  Recipe r = parse_recipe("model: {zoo: lenet5}\n", {}, "a");
  for (double v : {0.1, 1.0 / 3.0, 5e-4, 1e-8, 123456.789, 2.0, 1e20}) {
    r.train.optimizer.lr = v;
    EXPECT_EQ(parse_recipe(to_yaml(r), {}, "b").train.optimizer.lr, v) << to_yaml(r);
  }
}

TEST(RecipeEquality, ComparesEveryKeyButNotSourcePath) {
  Recipe a = parse_recipe(kFull, {}, "one");
  Recipe b = parse_recipe(kFull, {}, "two");
  EXPECT_EQ(a, b);
  b.train.optimizer.betas[1] = 0.96;
  EXPECT_NE(a, b);
  b = parse_recipe(kFull, {}, "two");
  b.data.augment.hflip = false;
  EXPECT_NE(a, b);
  b = parse_recipe(kFull, {"quantize.weights.bits=3"}, "two");
  EXPECT_NE(a, b);
  b = parse_recipe(kFull, {"quantize="}, "two");
  EXPECT_NE(a, b);
}

TEST(RecipeSubset, CountsFollowTheDocumentedMeaning) {
  EXPECT_EQ(subset_count(0, 60000), 60000u);
  EXPECT_EQ(subset_count(1000, 60000), 1000u);
  EXPECT_EQ(subset_count(100000, 60000), 60000u);
  EXPECT_EQ(subset_count(0.25, 60000), 15000u);
  EXPECT_EQ(subset_count(0.001, 10), 1u);
}
