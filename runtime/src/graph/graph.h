// The runtime's graph: ONNX nodes, attributes and constant tensors, nothing else. The ONNX loader
// fills it, lower_qdq.cpp rewrites QDQ patterns into integer nodes, model.cpp compiles it into ops.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace qfrt {

struct Attr {
  enum Kind { Int, Float, Ints, Floats, String } kind = Int;
  int64_t i = 0;
  float f = 0;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::string s;
};

struct Node {
  std::string name, op, domain;
  std::vector<std::string> inputs, outputs;  // "" = an omitted optional input
  std::map<std::string, Attr> attrs;

  bool has(const std::string& a) const { return attrs.count(a) != 0; }
  int64_t i(const std::string& a, int64_t def) const;
  float f(const std::string& a, float def) const;
  std::vector<int64_t> ints(const std::string& a, const std::vector<int64_t>& def) const;
  std::string s(const std::string& a, const std::string& def) const;
  std::string input(size_t k) const { return k < inputs.size() ? inputs[k] : std::string(); }
  std::string label() const;  // "node 'name' (Op)" for messages
};

struct Graph {
  std::string source;  // the file, for messages
  bool lowered = false;  // read from a .qfp: lower_qdq has run when it was packed
  std::vector<Node> nodes;
  std::map<std::string, Tensor> initializers;
  std::vector<std::string> inputs, outputs;  // graph inputs exclude initializers

  const Tensor* constant(const std::string& name) const {
    auto it = initializers.find(name);
    return it == initializers.end() ? nullptr : &it->second;
  }
};

// Graph from an ONNX file; throws Error naming the file (and node) for anything it cannot read.
Graph load_onnx(const std::string& path);
// One TensorProto file (ONNX test data: input_0.pb ...).
Tensor load_tensor_proto(const std::string& path);

}  // namespace qfrt
