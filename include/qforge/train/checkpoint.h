// Checkpoints: one file holding the graph (structure + weights + buffers), optimizer state,
// progress (epoch, step, best accuracy) and the effective recipe, so a run can resume or a
// model can be evaluated, inspected and exported from it alone.
//
// The file is a libtorch archive (zip): "format", "graph" (JSON, see ir/serialize.h),
// "recipe" (YAML), "meta" (JSON), tensors "t/<index>" in the graph's initializer order, and
// the optimizer's own archive under "optimizer". Writes go to PATH.tmp and are renamed into
// place, so a killed run never leaves a half-written checkpoint.
#pragma once
#include <nlohmann/json.hpp>

#include <memory>
#include <stdexcept>
#include <string>

#include "qforge/ir/graph.h"

namespace torch::optim {
class Optimizer;
}
namespace torch::serialize {
class OutputArchive;
}
namespace qforge::exec {
class GraphModule;
}

namespace qforge::train {

struct CheckpointError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Writes an archive to `path` as every qforge file is written: through PATH.tmp and a rename, its directory
// created. On failure the .tmp is removed and std::runtime_error says "<path>: cannot write <what>: <reason>".
void save_archive_atomically(torch::serialize::OutputArchive& archive, const std::string& path, const std::string& what);

struct CheckpointMeta {
  int64_t epoch = 0;  // epochs completed
  int64_t step = 0;   // optimizer steps taken
  double best_top1 = -1;
  std::string recipe_yaml;
  nlohmann::json metrics = nlohmann::json::object();  // last evaluation
};

void save_checkpoint(const std::string& path, const exec::GraphModule& model, const torch::optim::Optimizer* optimizer,
                     const CheckpointMeta& meta);

struct Checkpoint {
  ir::Graph graph;  // with weights
  CheckpointMeta meta;
  bool has_optimizer = false;
  std::string path;
};

// Throws CheckpointError naming the path and the problem (missing, not a checkpoint, corrupt).
Checkpoint load_checkpoint(const std::string& path);
// Restores optimizer state saved with the checkpoint at `path` (same parameter layout).
void load_optimizer_state(const std::string& path, torch::optim::Optimizer& optimizer);

}  // namespace qforge::train
