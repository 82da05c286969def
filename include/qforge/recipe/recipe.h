// A recipe: one YAML file that describes a run. These structs are the reference for every key;
// each field's comment says what it means, its default and what values are allowed.
//
//   model:    {zoo: lenet5, in_channels: 1, num_classes: 10}
//   data:     {name: fashion-mnist}
//   train:    {epochs: 3, optimizer: {name: sgd, lr: 0.05}}
//   init:     runs/lenet5/best.ckpt
//   quantize: {...}
//   ptq:      {...}
//
// Every key is optional (defaults below) except that model needs one of zoo / onnx. Unknown keys,
// wrong types and out-of-range values are errors (RecipeError) that name the file and the dotted key.
// Relative paths (model.onnx, data.root, init) are taken as given, i.e. relative to the working
// directory of the run, not to the recipe file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace qforge::recipe {

// Any problem with a recipe: syntax, unknown key, wrong type, value out of range, bad override.
// The message starts with the file (and line where known) and names the full dotted key, e.g.
//   recipe.yaml:7: train.optimizer.name: "sgdd" is not one of sgd, adam, adamw
struct RecipeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// model: the float network the run starts from.
struct ModelConfig {
  std::string zoo;                  // name of a built-in network (e.g. lenet5, resnet20); "" = not used
  std::string onnx;                 // path of an ONNX model file; "" = not used. Exactly one of zoo/onnx.
  int in_channels = 1;              // input channels (1 = grayscale, 3 = RGB); >= 1
  int num_classes = 10;             // outputs of the classifier; >= 1
  double width = 1.0;               // channel multiplier for zoo networks (0.5 = half as wide); > 0
  std::vector<int> input_size{28, 28};  // [height, width] of the network input; two integers >= 1
};

// data.augment: training-time transforms (evaluation never augments). All off by default.
struct AugmentConfig {
  int crop_padding = 0;  // pad by this many pixels, then random-crop back to size; 0 = off; >= 0
  bool hflip = false;    // random horizontal flip with probability 0.5
  int resize = 0;        // resize the shorter side to this many pixels first; 0 = off; >= 0
  int center_crop = 0;   // center-crop to this square size after resize; 0 = off; >= 0
};

// data.normalize: per-channel (x - mean) / std after scaling pixels to [0, 1].
struct NormalizeConfig {
  std::vector<double> mean;  // one value per channel; [] = the dataset's default
  std::vector<double> std;   // one value per channel, each > 0; [] = the dataset's default.
                             // Set both or neither, with the same length.
};

// data: the dataset and how it is read.
struct DataConfig {
  std::string name = "fashion-mnist";  // dataset name, e.g. fashion-mnist; non-empty
  std::string root;                    // folder holding the dataset files; "" = the dataset's default
  double subset = 0;       // training examples used: 0 = all, integer N >= 1 = the first N,
                           // fraction 0 < x < 1 = that share of the set
  double test_subset = 0;  // the same for the evaluation set
  int workers = 2;         // background threads that load and augment batches; 0 = load inline; >= 0
  AugmentConfig augment;
  NormalizeConfig normalize;
};

// train.optimizer
struct OptimizerConfig {
  std::string name = "sgd";        // sgd | adam | adamw
  double lr = 0.1;                 // peak learning rate (after warmup); > 0
  double momentum = 0.9;           // sgd momentum; in [0, 1)
  bool nesterov = false;           // sgd Nesterov momentum; needs momentum > 0
  double weight_decay = 0.0;       // L2 penalty (sgd, adam) or decoupled decay (adamw); >= 0
  bool decay_bn_and_bias = false;  // also decay BatchNorm parameters and biases (usually left off)
  std::vector<double> betas{0.9, 0.999};  // adam/adamw moment decay rates; two numbers in [0, 1)
  double eps = 1.0e-8;             // adam/adamw denominator term; > 0
};

// train.schedule: how the learning rate moves over the epochs. Updated every step.
struct ScheduleConfig {
  std::string name = "cosine";  // cosine (lr -> min_lr over the run) | step (lr *= gamma at each
                                // milestone) | constant
  int warmup_epochs = 0;        // linear ramp from 0 to lr over this many epochs first; >= 0
  std::vector<int> milestones;  // step: epochs (>= 0, increasing) at which lr is multiplied by gamma;
                                // step needs at least one; ignored by cosine/constant
  double gamma = 0.1;           // step: factor applied at each milestone; > 0
  double min_lr = 0.0;          // cosine: final learning rate; in [0, optimizer.lr]
};

// train: the loop.
struct TrainConfig {
  int epochs = 1;               // passes over the training set; 0 = evaluate only; >= 0
  int batch_size = 128;         // training examples per step; >= 1
  int eval_batch_size = 512;    // examples per batch when evaluating; >= 1
  std::uint64_t seed = 0;       // seeds weights init, shuffling and augmentation; >= 0
  int threads = 0;              // CPU threads for compute; 0 = all cores; >= 0
  double label_smoothing = 0.0; // cross-entropy label smoothing; in [0, 1)
  int log_every = 50;           // print a progress line every this many steps; 0 = epoch lines only
  int checkpoint_every = 1;     // save a checkpoint every this many epochs; 0 = only at the end
  int eval_every = 1;           // evaluate every this many epochs; 0 = only at the end
  std::string device = "cpu";   // cpu | cuda | cuda:N
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
};

struct Recipe {
  ModelConfig model;
  DataConfig data;
  TrainConfig train;
  std::string init;       // path of a checkpoint whose weights start the run; "" = fresh weights
  YAML::Node quantize;    // the quantize section as written (null if absent); validated by the
                          // quantization layer, not here. A YAML::Node copy shares its data:
                          // use YAML::Clone to change a copy without changing the original.
  YAML::Node ptq;         // the ptq section as written (null if absent): post-training quantization
                          // options for `qforge ptq RECIPE` (see compress/ptq.h), validated there.
  std::string source_path;  // the file the recipe was read from (or the source name given to
                            // parse_recipe); not a recipe key, not compared by ==
};

// Reads the YAML file at `path`, applies `overrides` (see parse_recipe), validates.
// Throws RecipeError (also when the file cannot be read).
Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides = {});

// As load_recipe, from text. `source_name` is used in error messages and stored in source_path.
// Each override is "dotted.key=value", e.g. "train.epochs=3", "model.input_size=[32,32]";
// the value is read as YAML (scalar, [flow, list] or {flow: map}) and replaces that key in the
// document before validation, creating missing maps on the way. Later overrides win.
Recipe parse_recipe(const std::string& yaml_text, const std::vector<std::string>& overrides = {},
                    const std::string& source_name = "<recipe>");

// The complete effective recipe as YAML: every key, defaults included, quantize if present.
// parse_recipe(to_yaml(r)) == r. Stored in checkpoints.
std::string to_yaml(const Recipe& r);

// Compares every recipe key (quantize by content); ignores source_path.
bool operator==(const Recipe& a, const Recipe& b);
bool operator!=(const Recipe& a, const Recipe& b);

// Number of examples a subset value selects out of `available` (see DataConfig::subset):
// 0 -> all, N >= 1 -> min(N, available), 0 < x < 1 -> round(x * available), at least 1.
std::size_t subset_count(double subset, std::size_t available);

}  // namespace qforge::recipe
