// Builds graphs node by node with unique names and freshly initialized parameters.
// Used by the model zoo and by tests; initialization follows the common PyTorch choices
// (Kaiming-normal fan_out for conv, uniform(-1/sqrt(fan_in), +) for Gemm) with a seeded generator.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "qforge/ir/graph.h"

namespace qforge::ir {

class GraphBuilder {
 public:
  explicit GraphBuilder(std::string graph_name, uint64_t seed = 0);

  // Name scopes: nodes and parameters created inside get "scope.name" names (e.g. "layer1.0.conv1").
  void push_scope(const std::string& s);
  void pop_scope();
  std::string scoped(const std::string& name) const;

  std::string input(const std::string& name, std::vector<int64_t> shape, DType t = DType::Float32);
  void output(const std::string& value, const std::string& name = "");

  // Generic node: returns its outputs. Node and output names are scoped + made unique.
  std::vector<std::string> node(const std::string& op, const std::vector<std::string>& inputs,
                                Attributes attrs = {}, int num_outputs = 1, const std::string& name = "");
  std::string add_initializer(const std::string& name, Tensor t, bool buffer = false);

  // Layers. `name` is the layer's scoped name; parameters are "<name>.weight", "<name>.bias".
  std::string conv(const std::string& x, int64_t in_ch, int64_t out_ch, int64_t kernel, int64_t stride = 1,
                   int64_t pad = 0, int64_t groups = 1, bool bias = false, const std::string& name = "conv");
  std::string batchnorm(const std::string& x, int64_t ch, const std::string& name = "bn", double eps = 1e-5,
                        double momentum = 0.9);  // ONNX momentum: running = m*running + (1-m)*batch
  std::string gemm(const std::string& x, int64_t in_f, int64_t out_f, bool bias = true,
                   const std::string& name = "fc");  // y = x W^T + b, W is [out, in]
  std::string relu(const std::string& x, const std::string& name = "relu");
  std::string clip(const std::string& x, double lo, double hi, const std::string& name = "clip");
  std::string add(const std::string& a, const std::string& b, const std::string& name = "add");
  std::string maxpool(const std::string& x, int64_t kernel, int64_t stride, int64_t pad = 0,
                      const std::string& name = "maxpool");
  std::string avgpool(const std::string& x, int64_t kernel, int64_t stride, int64_t pad = 0,
                      const std::string& name = "avgpool");
  std::string global_avgpool(const std::string& x, const std::string& name = "gap");
  std::string flatten(const std::string& x, const std::string& name = "flatten");
  std::string dropout(const std::string& x, double ratio, const std::string& name = "dropout");

  Graph& graph() { return g_; }
  Graph finish();  // sorts, validates and returns the graph

 private:
  std::string unique(const std::string& base);
  std::vector<float> kaiming_normal_fan_out(int64_t n, int64_t fan_out);
  std::vector<float> uniform(int64_t n, float bound);

  Graph g_;
  std::vector<std::string> scopes_;
  std::set<std::string> used_;
  std::mt19937_64 rng_;
};

}  // namespace qforge::ir
