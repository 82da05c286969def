// A loaded, lowered and compiled model: the object behind the C API. run() is not thread-safe
// (ops keep prepared weights and scratch); use one Model per thread.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/op.h"

namespace qfrt {

class Model {
 public:
  // Loads an ONNX file; lower: rewrite QDQ patterns into integer ops (off: the file's ops as they are).
  explicit Model(const std::string& path, bool lower = true);
  Model(Graph g, bool lower);

  // Inputs in graph-input order; returns the graph outputs in order.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs);

  const Graph& graph() const { return g_; }
  std::map<std::string, int> ops() const;
  // Layers per non-default kernel ("bitserial W2A2": 3): which low-bit kernels the widths picked.
  std::map<std::string, int> kernels() const;
  // Whether a batch runs as one part per thread (batch_split.h).
  bool batch_parts() const { return batch_parts_; }

 private:
  void compile();
  std::vector<Tensor> run_steps(const std::vector<Tensor>& inputs);  // the graph once, on these inputs
  Graph g_;
  struct Step {
    std::unique_ptr<Op> op;
    std::vector<int> in, out;  // slots; -1 = omitted
    std::vector<int> release;  // slots whose last reader this step is
  };
  std::vector<Step> steps_;
  std::vector<const Tensor*> constants_;  // per slot, null for computed values
  std::vector<int> input_slots_, output_slots_;
  size_t nslots_ = 0;
  bool batch_parts_ = false;  // batches run as one part per thread (batch_split.h)
};

}  // namespace qfrt
