// A network is data: named values, nodes in topological order, initializers and buffers.
// Op names and attribute conventions follow ONNX so import/export is a direct mapping.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "qforge/ir/attributes.h"
#include "qforge/ir/tensor.h"

namespace qforge::ir {

// shape entries of -1 are dynamic (the batch dimension of graph inputs).
struct ValueInfo {
  std::string name;
  DType dtype = DType::Float32;
  std::vector<int64_t> shape;
};

struct Node {
  std::string name;
  std::string op;
  std::vector<std::string> inputs;  // "" marks an omitted optional input, as in ONNX
  std::vector<std::string> outputs;
  Attributes attrs;
};

struct Graph {
  std::string name;
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
  std::vector<Node> nodes;  // kept in topological order (see topological_sort)
  std::map<std::string, Tensor> initializers;
  // Initializers that are state, not trainable parameters (BatchNorm running statistics).
  std::set<std::string> buffers;

  bool is_initializer(const std::string& v) const { return initializers.count(v) != 0; }
  bool is_output(const std::string& value) const;                // one of the graph's outputs
  const Node* producer(const std::string& value) const;          // nullptr for inputs/initializers
  std::vector<const Node*> consumers(const std::string& value) const;
  // The only node reading `value`; nullptr when none or several do, or when it is a graph output.
  const Node* sole_consumer(const std::string& value) const;
  Node* find_node(const std::string& name);
  int64_t parameter_count() const;  // elements in trainable float initializers

  // Throws std::runtime_error naming the node and value on: duplicate node or value names,
  // a value used before it is produced (or a cycle), an output nobody produces.
  void validate() const;
  // Reorders nodes so every input is produced before use; throws on cycles naming a node.
  void topological_sort();
};

}  // namespace qforge::ir
