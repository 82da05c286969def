#include "qforge/ir/graph.h"

#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace qforge::ir {

const Node* Graph::producer(const std::string& value) const {
  for (const Node& n : nodes)
    for (const std::string& o : n.outputs)
      if (o == value) return &n;
  return nullptr;
}

std::vector<const Node*> Graph::consumers(const std::string& value) const {
  std::vector<const Node*> out;
  for (const Node& n : nodes)
    for (const std::string& i : n.inputs)
      if (i == value) {
        out.push_back(&n);
        break;
      }
  return out;
}

bool Graph::is_output(const std::string& value) const {
  for (const ValueInfo& o : outputs)
    if (o.name == value) return true;
  return false;
}

const Node* Graph::sole_consumer(const std::string& value) const {
  if (is_output(value)) return nullptr;
  const std::vector<const Node*> c = consumers(value);
  return c.size() == 1 ? c[0] : nullptr;
}

Node* Graph::find_node(const std::string& name) {
  for (Node& n : nodes)
    if (n.name == name) return &n;
  return nullptr;
}

int64_t Graph::parameter_count() const {
  int64_t n = 0;
  for (const auto& [name, t] : initializers)
    if (!buffers.count(name) && (t.dtype == DType::Float32 || t.dtype == DType::Float64)) n += t.numel();
  return n;
}

void Graph::validate() const {
  std::unordered_set<std::string> available;
  for (const ValueInfo& v : inputs) {
    if (!available.insert(v.name).second) throw std::runtime_error("graph input '" + v.name + "' is declared twice");
  }
  for (const auto& [name, t] : initializers) available.insert(name);
  for (const std::string& b : buffers)
    if (!initializers.count(b)) throw std::runtime_error("buffer '" + b + "' has no initializer");
  std::unordered_set<std::string> node_names;
  for (const Node& n : nodes) {
    if (n.name.empty()) throw std::runtime_error("a node of op " + n.op + " has no name");
    if (!node_names.insert(n.name).second) throw std::runtime_error("node name '" + n.name + "' is used twice");
    for (const std::string& in : n.inputs) {
      if (in.empty()) continue;
      if (!available.count(in))
        throw std::runtime_error("node '" + n.name + "' (" + n.op + ") reads '" + in +
                                 "', which no earlier node, input or initializer provides (missing value or cycle)");
    }
    for (const std::string& out : n.outputs) {
      if (out.empty()) continue;
      if (!available.insert(out).second)
        throw std::runtime_error("value '" + out + "' is produced twice (again by node '" + n.name + "')");
    }
  }
  for (const ValueInfo& v : outputs)
    if (!available.count(v.name)) throw std::runtime_error("graph output '" + v.name + "' is not produced by any node");
}

void Graph::topological_sort() {
  std::unordered_set<std::string> available;
  for (const ValueInfo& v : inputs) available.insert(v.name);
  for (const auto& [name, t] : initializers) available.insert(name);
  std::unordered_map<std::string, size_t> produced_by;
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const std::string& o : nodes[i].outputs) produced_by[o] = i;

  std::vector<Node> sorted;
  std::vector<bool> done(nodes.size(), false);
  sorted.reserve(nodes.size());
  // Repeated sweeps keep the original order wherever it is already valid (stable, and
  // networks are small enough that O(n^2) in the worst case does not matter).
  bool progress = true;
  while (sorted.size() < nodes.size() && progress) {
    progress = false;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (done[i]) continue;
      bool ready = true;
      for (const std::string& in : nodes[i].inputs)
        if (!in.empty() && !available.count(in) && produced_by.count(in)) ready = false;
      if (!ready) continue;
      for (const std::string& o : nodes[i].outputs) available.insert(o);
      sorted.push_back(std::move(nodes[i]));
      done[i] = true;
      progress = true;
    }
  }
  if (sorted.size() < nodes.size()) {
    for (size_t i = 0; i < nodes.size(); ++i)
      if (!done[i]) throw std::runtime_error("graph has a cycle through node '" + nodes[i].name + "' (" + nodes[i].op + ")");
  }
  nodes = std::move(sorted);
}

}  // namespace qforge::ir
