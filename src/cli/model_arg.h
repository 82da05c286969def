// The MODEL argument of inspect/export/infer/bench: a checkpoint, an ONNX file, a recipe (its model,
// fresh weights, with its quantize: section's quantizers inserted) or zoo:NAME.
#pragma once
#include <string>

#include "qforge/ir/graph.h"
#include "qforge/recipe/recipe.h"

namespace qforge::cli {

struct ModelArg {
  ir::Graph graph;
  recipe::Recipe recipe;  // the checkpoint's or file's recipe; defaults for zoo:NAME
};

ModelArg resolve_model(const std::string& arg, const std::vector<std::string>& overrides = {});

}  // namespace qforge::cli
