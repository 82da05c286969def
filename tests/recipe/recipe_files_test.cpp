// The recipes shipped in recipes/ load and say what their comments promise.
#include <gtest/gtest.h>

#include "qforge/recipe/recipe.h"

using namespace qforge::recipe;

TEST(RecipeFiles, Lenet5FashionMnistLoads) {
  Recipe r = load_recipe(QFORGE_SOURCE_DIR "/recipes/lenet5-fashion-mnist.yaml");
  EXPECT_EQ(r.model.zoo, "lenet5");
  EXPECT_EQ(r.model.in_channels, 1);
  EXPECT_EQ(r.model.num_classes, 10);
  EXPECT_EQ(r.model.input_size, (std::vector<int>{28, 28}));
  EXPECT_EQ(r.data.name, "fashion-mnist");
  EXPECT_EQ(r.train.epochs, 3);
  EXPECT_EQ(r.train.batch_size, 128);
  EXPECT_EQ(r.train.optimizer.name, "sgd");
  EXPECT_EQ(r.train.optimizer.lr, 0.05);
  EXPECT_EQ(r.train.optimizer.momentum, 0.9);
  EXPECT_TRUE(r.train.optimizer.nesterov);
  EXPECT_EQ(r.train.optimizer.weight_decay, 5e-4);
  EXPECT_EQ(r.train.schedule.name, "cosine");
  EXPECT_EQ(r.data.augment.crop_padding, 0);
  EXPECT_FALSE(r.data.augment.hflip);
  EXPECT_EQ(parse_recipe(to_yaml(r), {}, "emitted"), r);
}

TEST(RecipeFiles, Resnet20FashionMnistLoads) {
  Recipe r = load_recipe(QFORGE_SOURCE_DIR "/recipes/resnet20-fashion-mnist.yaml", {"train.epochs=1"});
  EXPECT_EQ(r.model.zoo, "resnet20");
  EXPECT_EQ(r.model.in_channels, 1);
  EXPECT_EQ(r.data.name, "fashion-mnist");
  EXPECT_EQ(r.train.epochs, 1);  // overridden from 30
  EXPECT_EQ(load_recipe(QFORGE_SOURCE_DIR "/recipes/resnet20-fashion-mnist.yaml").train.epochs, 30);
  EXPECT_EQ(r.train.batch_size, 128);
  EXPECT_EQ(r.train.optimizer.lr, 0.1);
  EXPECT_TRUE(r.train.optimizer.nesterov);
  EXPECT_EQ(r.train.optimizer.weight_decay, 5e-4);
  EXPECT_EQ(r.train.schedule.name, "cosine");
  EXPECT_EQ(r.train.schedule.warmup_epochs, 1);
  EXPECT_EQ(r.data.augment.crop_padding, 2);
  EXPECT_TRUE(r.data.augment.hflip);
  EXPECT_EQ(r.train.label_smoothing, 0.0);
  EXPECT_EQ(parse_recipe(to_yaml(r), {}, "emitted"), r);
}
