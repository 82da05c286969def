// Where a run's float network comes from: the zoo (model.zoo), an ONNX file (model.onnx), or a
// model file given on the command line (a qforge checkpoint or an ONNX file).
#pragma once
#include <cstdint>
#include <string>

#include "qforge/ir/graph.h"
#include "qforge/recipe/recipe.h"

namespace qforge::train {

// Fresh weights from the zoo (seeded), or the ONNX file's weights. Throws naming the recipe key on a bad model section.
ir::Graph build_graph(const recipe::ModelConfig& cfg, uint64_t seed);

// A graph with weights from a model file (.onnx, else a checkpoint). Throws std::runtime_error naming the file.
ir::Graph load_model_file(const std::string& path);

}  // namespace qforge::train
