// The training loop: recipe in, checkpoints and a metrics log out.
//
// OUT/last.ckpt   written every train.checkpoint_every epochs and at the end (atomic)
// OUT/best.ckpt   the checkpoint with the best test top-1 so far
// OUT/metrics.jsonl  one JSON object per epoch
// OUT/recipe.yaml    the effective recipe
#pragma once
#include <functional>
#include <set>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "qforge/ir/graph.h"
#include "qforge/recipe/recipe.h"

namespace qforge::exec {
class GraphModule;
}

namespace qforge::train {

// Raised when training cannot go on (NaN/Inf loss, ...); the message names the step and the
// last good checkpoint.
struct TrainError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct TrainOptions {
  std::string out_dir;  // required
  bool resume = false;  // continue from OUT/last.ckpt
  bool quiet = false;   // no progress output
};

// How a compression pipeline (QAT, pruning, ...) adapts the loop without owning it.
struct TrainHooks {
  // Turns the float graph (init weights already loaded) into the graph to train. Not called when
  // resuming: the checkpoint holds the prepared graph.
  std::function<ir::Graph(ir::Graph)> prepare;
  // Parameters that get their own optimizer group (no weight decay, `own_lr` if > 0), decided from
  // the prepared graph.
  std::function<std::set<std::string>(const ir::Graph&)> own_group;
  double own_lr = 0;
  std::function<void(exec::GraphModule&, int64_t epoch)> on_epoch_start;  // 0-based epoch
};

// Returns a summary: model, parameters, epochs, best/final test top-1 and top-5, seconds,
// checkpoint paths.
nlohmann::json run_training(const recipe::Recipe& r, const TrainOptions& opt, const TrainHooks& hooks = {});

// Sets libtorch's intra-op threads: `threads`, or all cores when 0. Returns the count used.
int configure_threads(int threads);

}  // namespace qforge::train
