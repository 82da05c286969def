// The recipe's `quantize:` section, validated into typed configuration.
//
//   quantize:
//     weights:     {method: lsq, bits: 4, per_channel: true}
//     activations: {method: lsq, bits: 4}
//     keep_float:  [first, last]        # node names or the words first / last (default [first, last])
//     first_last_bits: 0                # > 0: quantize first/last layers at this width instead of float,
//                                       # with the section's method, or uniform where that method cannot
//                                       # (bwn/xnor/twn at 8 bits, hwgq on the signed image input) or
//                                       # where its grid is no integer grid (pow2, lqnet, hwgq levels)
//     overrides:   [{match: "layer3\\..*", weights: {bits: 2}, enable: true}]
//     lr: 0.0                           # learning rate of quantizer parameters (0 = the optimizer's)
//     freeze_bn_after: -1               # epochs after which BatchNorm statistics freeze (-1 = never)
//     fold_bn: false                    # fold BatchNorm into the weights the quantizer sees (bn_fold.h)
//
// Each quantizer section takes: method, bits, per_channel (weights), signed (activations;
// default: unsigned when the input comes from a ReLU/Clip(0,...)), noise, and the method's own
// options (see each method's default_options()).
#pragma once
#include <yaml-cpp/yaml.h>

#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "qforge/quant/method.h"

namespace qforge::quant {

struct QuantizerSection {
  bool present = false;
  YAML::Node node;  // kept so overrides can merge onto it
};

struct LayerOverride {
  std::string match;  // regular expression on node names (full match)
  std::regex re;
  std::optional<bool> enable;
  YAML::Node weights, activations;  // partial sections merged onto the defaults
};

struct QuantizeConfig {
  QuantizerSection weights, activations;
  std::vector<std::string> keep_float{"first", "last"};
  int first_last_bits = 0;
  std::vector<LayerOverride> overrides;
  double lr = 0.0;
  int freeze_bn_after = -1;
  bool fold_bn = false;
  bool adds = false;  // quantize.adds: quantizers on the inputs and output of residual Adds (insert.cpp)
};

// Throws std::runtime_error naming the full dotted key ("quantize.weights.bits: ...").
QuantizeConfig parse_quantize(const YAML::Node& node);

// Resolves one quantizer section (after overrides were merged) against its method: fills
// defaults, checks bits range, role support and option names. `key` is the dotted key for errors.
QuantizerConfig resolve_quantizer(const YAML::Node& section, Role role, const std::string& key);

}  // namespace qforge::quant
