// Every error names the file and the full dotted key, and says what is allowed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "qforge/recipe/recipe.h"

using namespace qforge::recipe;
using ::testing::HasSubstr;

namespace {

std::string error_of(const std::string& text) {
  try {
    parse_recipe(text, {}, "recipe.yaml");
  } catch (const RecipeError& e) {
    return e.what();
  }
  return "no error";
}

// The minimal valid recipe plus `extra` lines.
std::string with(const std::string& extra) { return "model: {zoo: lenet5}\n" + extra; }

}  // namespace

TEST(RecipeErrors, YamlSyntaxErrorGivesFileLineAndColumn) {
  std::string e = error_of("model: {zoo: lenet5}\ntrain:\n  epochs: [1, 2\n  batch_size: 3\n");
  EXPECT_THAT(e, HasSubstr("recipe.yaml:4:"));
  EXPECT_THAT(e, HasSubstr("YAML syntax error"));
  e = error_of("model: {zoo: lenet5}\ntrain:\n  epochs: 1\n   batch_size: 3\n");
  EXPECT_THAT(e, HasSubstr("recipe.yaml:4:14: YAML syntax error"));
}

TEST(RecipeErrors, UnknownTopLevelKey) {
  std::string e = error_of(with("modle: {}\n"));
  EXPECT_THAT(e, HasSubstr("recipe.yaml:2: modle: unknown key (did you mean model?); "
                           "allowed keys: model, data, train, init, quantize"));
}

TEST(RecipeErrors, UnknownNestedKeyListsAllowedKeys) {
  std::string e = error_of(with("train:\n  epochs: 2\n  optimzer: {lr: 0.1}\n"));
  EXPECT_THAT(e, HasSubstr("recipe.yaml:4: train.optimzer: unknown key (did you mean optimizer?)"));
  EXPECT_THAT(e, HasSubstr("allowed keys: epochs, batch_size, eval_batch_size, seed"));
  e = error_of(with("data: {augment: {flip: true}}\n"));
  EXPECT_THAT(e, HasSubstr("data.augment.flip: unknown key"));
  EXPECT_THAT(e, HasSubstr("allowed keys: crop_padding, hflip, resize, center_crop"));
  e = error_of(with("train: {optimizer: {name: sgd, mommentum: 0.9}}\n"));
  EXPECT_THAT(e, HasSubstr("train.optimizer.mommentum: unknown key (did you mean momentum?)"));
}

TEST(RecipeErrors, DuplicateKey) {
  EXPECT_THAT(error_of(with("train: {epochs: 1, epochs: 2}\n")),
              HasSubstr("train.epochs: duplicate key"));
}

TEST(RecipeErrors, TypeErrorsNameKeyAndExpectedType) {
  EXPECT_THAT(error_of(with("train: {epochs: abc}\n")),
              HasSubstr("recipe.yaml:2: train.epochs: expected a non-negative integer, got \"abc\""));
  EXPECT_THAT(error_of(with("train: {epochs: 2.5}\n")),
              HasSubstr("train.epochs: expected a non-negative integer, got \"2.5\""));
  EXPECT_THAT(error_of(with("train: {epochs: }\n")),
              HasSubstr("train.epochs: expected a non-negative integer, got null"));
  EXPECT_THAT(error_of(with("train: {optimizer: {lr: fast}}\n")),
              HasSubstr("train.optimizer.lr: expected a number > 0, got \"fast\""));
  EXPECT_THAT(error_of(with("train: {optimizer: {lr: .nan}}\n")),
              HasSubstr("train.optimizer.lr: expected a number > 0, got \".nan\""));
  EXPECT_THAT(error_of(with("data: {augment: {hflip: yes}}\n")),
              HasSubstr("data.augment.hflip: expected true or false, got \"yes\""));
  EXPECT_THAT(error_of(with("train: {seed: -1}\n")),
              HasSubstr("train.seed: expected a non-negative integer, got \"-1\""));
  EXPECT_THAT(error_of(with("train: {batch_size: 99999999999}\n")),
              HasSubstr("train.batch_size: expected an integer >= 1, got 99999999999 (out of range)"));
  EXPECT_THAT(error_of("model: {zoo: [a, b]}\n"),
              HasSubstr("model.zoo: expected a string, got a list"));
  EXPECT_THAT(error_of(with("train: 5\n")),
              HasSubstr("train: expected a map with keys epochs, batch_size"));
  EXPECT_THAT(error_of("- a\n- b\n"),
              HasSubstr("recipe.yaml:1: expected a map with keys model, data, train, init, quantize"));
}

TEST(RecipeErrors, ListErrors) {
  EXPECT_THAT(error_of("model: {zoo: lenet5, input_size: 28}\n"),
              HasSubstr("model.input_size: expected a list of 2 items, each an integer >= 1; got \"28\""));
  EXPECT_THAT(error_of("model: {zoo: lenet5, input_size: [1, 2, 3]}\n"),
              HasSubstr("model.input_size: expected a list of 2 items, each an integer >= 1; got 3 items"));
  EXPECT_THAT(error_of(with("train: {optimizer: {betas: [0.9, 1.0]}}\n")),
              HasSubstr("train.optimizer.betas[1]: expected a number in [0, 1), got 1"));
  EXPECT_THAT(error_of(with("data: {normalize: {mean: [0.5], std: [0]}}\n")),
              HasSubstr("data.normalize.std[0]: expected a number > 0, got 0"));
}

TEST(RecipeErrors, ChoicesListWhatIsAllowed) {
  EXPECT_THAT(error_of(with("train: {optimizer: {name: sgdd}}\n")),
              HasSubstr("train.optimizer.name: \"sgdd\" is not one of sgd, adam, adamw"));
  EXPECT_THAT(error_of(with("train: {schedule: {name: linear}}\n")),
              HasSubstr("train.schedule.name: \"linear\" is not one of cosine, step, constant"));
  EXPECT_THAT(error_of(with("train: {device: gpu}\n")),
              HasSubstr("train.device: \"gpu\" is not one of cpu, cuda, cuda:N"));
}

TEST(RecipeErrors, RangeChecks) {
  struct Case { const char* yaml; const char* message; };
  for (const Case& c : std::vector<Case>{
           {"train: {optimizer: {lr: 0}}", "train.optimizer.lr: expected a number > 0, got 0"},
           {"train: {optimizer: {lr: -0.1}}", "train.optimizer.lr: expected a number > 0, got -0.1"},
           {"train: {batch_size: 0}", "train.batch_size: expected an integer >= 1, got 0"},
           {"train: {eval_batch_size: 0}", "train.eval_batch_size: expected an integer >= 1, got 0"},
           {"train: {epochs: -1}", "train.epochs: expected a non-negative integer, got -1"},
           {"train: {label_smoothing: 1}", "train.label_smoothing: expected a number in [0, 1), got 1"},
           {"train: {label_smoothing: -0.1}", "train.label_smoothing: expected a number in [0, 1)"},
           {"train: {optimizer: {momentum: 1}}", "train.optimizer.momentum: expected a number in [0, 1), got 1"},
           {"train: {optimizer: {weight_decay: -1}}", "train.optimizer.weight_decay: expected a number >= 0"},
           {"train: {optimizer: {eps: 0}}", "train.optimizer.eps: expected a number > 0"},
           {"train: {threads: -2}", "train.threads: expected a non-negative integer, got -2"},
           {"train: {schedule: {gamma: 0}}", "train.schedule.gamma: expected a number > 0"},
           {"train: {schedule: {warmup_epochs: -1}}", "train.schedule.warmup_epochs: expected a non-negative integer"},
           {"data: {subset: 1.5}", "data.subset: expected 0 (all), an integer >= 1 (the first N) or a fraction in (0, 1), got 1.5"},
           {"data: {test_subset: -1}", "data.test_subset: expected 0 (all)"},
           {"data: {workers: -1}", "data.workers: expected a non-negative integer"},
           {"data: {name: \"\"}", "data.name: expected a non-empty string, got \"\""},
           {"data: {augment: {crop_padding: -2}}", "data.augment.crop_padding: expected a non-negative integer, got -2"},
       }) {
    EXPECT_THAT(error_of(with(std::string(c.yaml) + "\n")), HasSubstr(c.message)) << c.yaml;
  }
  EXPECT_THAT(error_of("model: {zoo: lenet5, width: 0}\n"),
              HasSubstr("model.width: expected a number > 0, got 0"));
  EXPECT_THAT(error_of("model: {zoo: lenet5, num_classes: 0}\n"),
              HasSubstr("model.num_classes: expected an integer >= 1, got 0"));
  EXPECT_THAT(error_of("model: {zoo: lenet5, in_channels: 0}\n"),
              HasSubstr("model.in_channels: expected an integer >= 1, got 0"));
}

TEST(RecipeErrors, RulesAcrossKeys) {
  EXPECT_THAT(error_of("data: {name: mnist}\n"),
              HasSubstr("recipe.yaml: model: set exactly one of model.zoo (a built-in network) or "
                        "model.onnx (a model file); got neither"));
  EXPECT_THAT(error_of("model: {zoo: lenet5, onnx: m.onnx}\n"), HasSubstr("got both"));
  EXPECT_THAT(error_of(with("data: {normalize: {mean: [0.5]}}\n")),
              HasSubstr("data.normalize: mean and std need the same number of values"));
  EXPECT_THAT(error_of(with("train: {optimizer: {nesterov: true, momentum: 0}}\n")),
              HasSubstr("train.optimizer.nesterov: true needs train.optimizer.momentum > 0"));
  EXPECT_THAT(error_of(with("train: {schedule: {name: step}}\n")),
              HasSubstr("train.schedule.milestones: the step schedule needs at least one milestone"));
  EXPECT_THAT(error_of(with("train: {schedule: {name: step, milestones: [5, 5]}}\n")),
              HasSubstr("train.schedule.milestones: expected increasing epochs, got 5 then 5"));
  EXPECT_THAT(error_of(with("train: {optimizer: {lr: 0.01}, schedule: {min_lr: 0.1}}\n")),
              HasSubstr("train.schedule.min_lr: expected a number <= train.optimizer.lr (0.01), got 0.1"));
}

TEST(RecipeErrors, MultipleDocumentsAndMissingFile) {
  EXPECT_THAT(error_of("model: {zoo: a}\n---\nmodel: {zoo: b}\n"),
              HasSubstr("recipe.yaml: expected one YAML document, found 2"));
  try {
    load_recipe("/nonexistent/recipe.yaml");
    FAIL() << "no error";
  } catch (const RecipeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/recipe.yaml: cannot read recipe"));
  }
}
