// key.path=value overrides: each value kind, creation of missing maps, malformed overrides.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "qforge/recipe/overrides.h"
#include "qforge/recipe/recipe.h"

using namespace qforge::recipe;
using ::testing::HasSubstr;

namespace {

const char* kBase = "model: {zoo: lenet5}\ntrain: {epochs: 5, optimizer: {lr: 0.1}}\n";

std::string error_of(const std::vector<std::string>& overrides, const char* text = kBase) {
  try {
    parse_recipe(text, overrides, "recipe.yaml");
  } catch (const RecipeError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(RecipeOverrides, IntegerReplacesFileValue) {
  EXPECT_EQ(parse_recipe(kBase, {"train.epochs=3"}, "r").train.epochs, 3);
}

TEST(RecipeOverrides, RealValue) {
  EXPECT_EQ(parse_recipe(kBase, {"train.optimizer.lr=0.05"}, "r").train.optimizer.lr, 0.05);
  EXPECT_EQ(parse_recipe(kBase, {"train.optimizer.weight_decay=5e-4"}, "r")
                .train.optimizer.weight_decay, 5e-4);
}

TEST(RecipeOverrides, BooleanCreatesMissingMaps) {
  Recipe r = parse_recipe(kBase, {"data.augment.hflip=true"}, "r");
  EXPECT_TRUE(r.data.augment.hflip);
  EXPECT_EQ(r.data.name, "fashion-mnist");
}

TEST(RecipeOverrides, FlowSequence) {
  Recipe r = parse_recipe(kBase, {"model.input_size=[32,32]"}, "r");
  EXPECT_EQ(r.model.input_size, (std::vector<int>{32, 32}));
  r = parse_recipe(kBase, {"train.schedule.name=step", "train.schedule.milestones=[2, 4]"}, "r");
  EXPECT_EQ(r.train.schedule.milestones, (std::vector<int>{2, 4}));
}

TEST(RecipeOverrides, StringsAndEmptyValue) {
  Recipe r = parse_recipe(kBase, {"init=runs/a/best.ckpt", "data.root=/tmp/x=y"}, "r");
  EXPECT_EQ(r.init, "runs/a/best.ckpt");
  EXPECT_EQ(r.data.root, "/tmp/x=y");  // split at the first '='
  r = parse_recipe(kBase, {"model.zoo=", "model.onnx=m.onnx"}, "r");
  EXPECT_EQ(r.model.zoo, "");
  EXPECT_EQ(r.model.onnx, "m.onnx");
}

TEST(RecipeOverrides, FlowMapIntoQuantize) {
  Recipe r = parse_recipe(kBase, {"quantize.weights={method: lsq, bits: 4}",
                                  "quantize.weights.bits=2"}, "r");
  EXPECT_EQ(r.quantize["weights"]["method"].as<std::string>(), "lsq");
  EXPECT_EQ(r.quantize["weights"]["bits"].as<int>(), 2);  // later overrides win
}

TEST(RecipeOverrides, AppliedToEmptyDocument) {
  EXPECT_EQ(parse_recipe("", {"model.zoo=resnet20"}, "r").model.zoo, "resnet20");
}

TEST(RecipeOverrides, MalformedOverridesAreNamed) {
  EXPECT_THAT(error_of({"train.epochs"}), HasSubstr("override \"train.epochs\": no '='"));
  EXPECT_THAT(error_of({"=3"}), HasSubstr("override \"=3\": empty key"));
  EXPECT_THAT(error_of({"train..epochs=3"}), HasSubstr("override \"train..epochs=3\": empty part"));
  EXPECT_THAT(error_of({"train.epochs=[1, 2"}),
              HasSubstr("override \"train.epochs=[1, 2\": value is not valid YAML"));
  EXPECT_THAT(error_of({"train.epochs.x=3"}),
              HasSubstr("override \"train.epochs.x=3\": train.epochs is \"5\", not a map"));
}

TEST(RecipeOverrides, BadValuesNameKeyAndOverride) {
  std::string e = error_of({"train.epochs=abc"});
  EXPECT_THAT(e, HasSubstr("recipe.yaml: train.epochs: expected a non-negative integer, got \"abc\""));
  EXPECT_THAT(e, HasSubstr("(set by override \"train.epochs=abc\")"));
  e = error_of({"train.optimzer.lr=1"});
  EXPECT_THAT(e, HasSubstr("train.optimzer: unknown key"));
  EXPECT_THAT(e, HasSubstr("set by override \"train.optimzer.lr=1\""));
  EXPECT_THAT(error_of({"model.input_size=[32,0]"}),
              HasSubstr("model.input_size[1]: expected an integer >= 1, got 0"));
}

TEST(RecipeOverrides, ParseOverrideAndApplyDirectly) {
  Override ov = parse_override("a.b.c=[1, 2]");
  EXPECT_EQ(ov.key, "a.b.c");
  EXPECT_TRUE(ov.value.IsSequence());
  YAML::Node root;
  apply_override(root, ov);
  EXPECT_EQ(root["a"]["b"]["c"][1].as<int>(), 2);
}
