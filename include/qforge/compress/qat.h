// Quantization-aware training: the trainer with the recipe's quantize section applied.
// The float graph (with init weights) gets FakeQuant nodes (quant/insert.h); quantizer
// parameters train in their own optimizer group; BatchNorm statistics optionally freeze.
#pragma once
#include <nlohmann/json.hpp>

#include "qforge/recipe/recipe.h"
#include "qforge/train/trainer.h"

namespace qforge::compress {

// Same outputs as train::run_training, plus "quantized_layers" in the summary.
nlohmann::json run_qat(const recipe::Recipe& r, const train::TrainOptions& opt);

// Trains the recipe as it says: QAT when it has a quantize section, float training otherwise.
nlohmann::json run_recipe(const recipe::Recipe& r, const train::TrainOptions& opt);

}  // namespace qforge::compress
