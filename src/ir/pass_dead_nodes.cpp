#include <unordered_set>

#include "qforge/ir/passes.h"

namespace qforge::ir {

int eliminate_dead_nodes(Graph& g) {
  std::unordered_set<std::string> live;
  for (const ValueInfo& v : g.outputs) live.insert(v.name);
  std::vector<bool> keep(g.nodes.size(), false);
  for (size_t i = g.nodes.size(); i-- > 0;) {
    const Node& n = g.nodes[i];
    for (const std::string& o : n.outputs)
      if (live.count(o)) keep[i] = true;
    if (keep[i])
      for (const std::string& in : n.inputs) live.insert(in);
  }
  int removed = 0;
  std::vector<Node> kept;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (keep[i]) kept.push_back(std::move(g.nodes[i]));
    else ++removed;
  }
  g.nodes = std::move(kept);
  for (auto it = g.initializers.begin(); it != g.initializers.end();) {
    if (!live.count(it->first)) {
      g.buffers.erase(it->first);
      it = g.initializers.erase(it);
    } else {
      ++it;
    }
  }
  return removed;
}

}  // namespace qforge::ir
