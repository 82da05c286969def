// Turns a recipe's data section into datasets and loaders.
#pragma once
#include <memory>

#include "qforge/data/dataset.h"
#include "qforge/data/loader.h"
#include "qforge/recipe/recipe.h"

namespace qforge::train {

struct DataSplits {
  data::Dataset train, test;
};

// Loads both splits (applying subset / test_subset) and checks them against the model section
// (channels, image size, class count). Throws naming the recipe key and the file.
DataSplits load_splits(const recipe::DataConfig& data, const recipe::ModelConfig& model, bool need_train = true);

// Loader options: training shuffles and augments, evaluation does neither.
data::LoaderOptions loader_options(const recipe::DataConfig& data, const recipe::ModelConfig& model, int64_t batch_size,
                                   bool training, uint64_t seed);

}  // namespace qforge::train
