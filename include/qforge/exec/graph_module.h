// GraphModule runs an ir::Graph on libtorch with autograd. Its parameters are the graph's
// trainable float initializers and its buffers the rest, so torch::optim and Module::to work.
#pragma once
#include <torch/nn/module.h>

#include <map>
#include <string>
#include <vector>

#include "qforge/exec/op_registry.h"
#include "qforge/ir/graph.h"

namespace qforge::exec {

class GraphModule : public torch::nn::Module {
 public:
  // Checks every op is supported and the graph is valid; throws naming the node otherwise.
  explicit GraphModule(ir::Graph graph);

  std::vector<at::Tensor> forward(const std::vector<at::Tensor>& inputs);
  at::Tensor forward(const at::Tensor& input);  // single-input, single-output graphs

  // The graph with current weights and statistics written back into its initializers.
  ir::Graph to_graph() const;
  const ir::Graph& structure() const { return graph_; }

  // Initializer tensors by graph name (parameters and buffers share storage with the module's).
  const std::map<std::string, at::Tensor>& state() const { return state_; }
  void load_state(const std::map<std::string, at::Tensor>& values);  // copies; names/shapes must match

  // Stops BatchNorm statistics from updating in training mode (BN then normalizes with its
  // running statistics), as QAT does after some epochs. Returns how many nodes it froze.
  int freeze_batchnorm();

 private:
  struct Step {
    const ir::Node* node;
    const OpKernel* kernel;
    std::vector<int> in_slots;   // -1 for omitted optional inputs
    std::vector<int> out_slots;
    std::vector<int> release;    // slots whose last reader is this step
  };

  ir::Graph graph_;
  std::map<std::string, at::Tensor> state_;
  std::vector<Step> plan_;
  std::vector<int> input_slots_, output_slots_;
  std::vector<std::pair<int, at::Tensor>> constant_slots_;  // initializer slot -> tensor
  int num_slots_ = 0;
};

}  // namespace qforge::exec
