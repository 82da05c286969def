// Evaluation: cross-entropy loss, top-1 and top-5 accuracy over a loader.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>

#include <nlohmann/json.hpp>

namespace qforge::exec {
class GraphModule;
}
namespace qforge::data {
class DataLoader;
}

namespace qforge::train {

struct EvalResult {
  double loss = 0, top1 = 0, top5 = 0;  // accuracies in percent
  int64_t count = 0;
  double seconds = 0;
  nlohmann::json to_json() const;
};

// Runs the model in eval mode without gradients; restores the previous mode afterwards.
EvalResult evaluate(exec::GraphModule& model, data::DataLoader& loader, bool quiet = false);

// Counts of correct top-1 / top-k predictions in a batch of logits.
int64_t count_topk(const at::Tensor& logits, const at::Tensor& labels, int64_t k);

}  // namespace qforge::train
