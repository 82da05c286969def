// Internal to shape inference: one rule per op, grouped by family in shape_rules_*.cpp.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "qforge/ir/graph.h"

namespace qforge::ir::shape {

// What a rule sees of one node: its inputs' shapes and the graph's constant tensors.
class Ctx {
 public:
  Ctx(const Graph& g, const Node& n, const std::map<std::string, ValueInfo>& values) : g_(g), n_(n), values_(values) {}

  const Node& node() const { return n_; }
  const Attributes& attrs() const { return n_.attrs; }
  size_t num_inputs() const { return n_.inputs.size(); }
  // Input k is given (present and not "" as an omitted optional input).
  bool has(size_t k) const { return k < n_.inputs.size() && !n_.inputs[k].empty(); }
  // Input k's value info; fails naming the input if it is missing or its shape is unknown.
  const ValueInfo& in(size_t k) const;
  const std::vector<int64_t>& shape(size_t k) const { return in(k).shape; }
  // Input k's data when it is an initializer, else nullptr.
  const Tensor* constant(size_t k) const;
  // Requires at least `lo` and at most `hi` inputs.
  void arity(size_t lo, size_t hi) const;

  [[noreturn]] void fail(const std::string& why) const;

 private:
  const Graph& g_;
  const Node& n_;
  const std::map<std::string, ValueInfo>& values_;
};

// Output infos in output order (names are filled in by the caller). A rule may return fewer
// entries than the node has outputs only if the extra outputs are omitted ("").
using Rule = std::vector<ValueInfo> (*)(const Ctx&);

ValueInfo info(DType t, std::vector<int64_t> shape);
std::string str(const std::vector<int64_t>& shape);  // "[1, 3, 32, 32]" (no N for -1)
int64_t numel(const std::vector<int64_t>& shape);
// Normalizes a possibly negative axis into [0, rank) (or [0, rank] with inclusive_end); fails otherwise.
int64_t axis(const Ctx& c, int64_t a, int64_t rank, bool inclusive_end = false);
// Numpy (multidirectional) broadcast of a and b; fails showing both shapes.
std::vector<int64_t> broadcast(const Ctx& c, const std::vector<int64_t>& a, const std::vector<int64_t>& b);
// Whether `b` broadcasts to `a` without changing `a` (ONNX unidirectional broadcasting).
bool broadcasts_to(const std::vector<int64_t>& b, const std::vector<int64_t>& a);

void add_conv_pool_rules(std::map<std::string, Rule>& r);   // Conv, MaxPool, AveragePool, Global*Pool
void add_linear_norm_rules(std::map<std::string, Rule>& r); // Gemm, MatMul, BatchNormalization
void add_elementwise_rules(std::map<std::string, Rule>& r); // activations, Add/Sub/Mul/Div, Softmax, ...
void add_layout_rules(std::map<std::string, Rule>& r);      // Concat, Flatten, Reshape, Transpose
void add_index_rules(std::map<std::string, Rule>& r);       // Shape, Gather, Slice, Split, Squeeze, Unsqueeze, Expand, Cast, Resize, ...

}  // namespace qforge::ir::shape
