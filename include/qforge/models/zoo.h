// The model zoo: classification networks written with ir::GraphBuilder.
// Every network has input "input" [N, in_channels, image_size, image_size] and output "logits"
// [N, num_classes]; parameter names follow PyTorch's ("layer1.0.conv1.weight").
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "qforge/ir/graph.h"

namespace qforge::models {

struct ZooOptions {
  int64_t in_channels = 3;
  int64_t num_classes = 10;
  double width = 1.0;  // channel multiplier
  int64_t image_size = 32;
  uint64_t seed = 0;
};

// Throws std::invalid_argument listing the known names.
ir::Graph build_model(const std::string& name, const ZooOptions& o);
std::vector<std::string> zoo_names();

}  // namespace qforge::models
