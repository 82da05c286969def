// Static shapes for graphs whose exporter computes reshape targets at run time (Shape -> Gather ->
// Unsqueeze -> Concat -> Reshape, as torch.onnx writes x.view(x.size(0), ...) with a dynamic batch).
#include <stdexcept>

#include "fold_ops.h"
#include "qforge/ir/passes.h"
#include "qforge/ir/shape_inference.h"

namespace qforge::ir {

namespace {
// Folds with the graph inputs' leading dimension set to `batch`, to a fixed point.
int fold_for_batch(Graph& g, int64_t batch) {
  int total = 0;
  for (;;) {
    std::map<std::string, ValueInfo> known;
    try {
      known = infer_known_shapes(g, batch);
    } catch (const std::runtime_error&) {
      return total;  // e.g. a dynamic spatial input dimension: nothing can be made static
    }
    int changed = 0;
    std::vector<Node> kept;
    for (Node& n : g.nodes) {
      auto it = n.op == "Shape" && n.inputs.size() == 1 ? known.find(n.inputs[0]) : known.end();
      if (it != known.end() && n.outputs.size() == 1 && !g.is_output(n.outputs[0])) {
        g.initializers[n.outputs[0]] = fold::shape_of(n, it->second.shape);
        g.buffers.insert(n.outputs[0]);
        ++changed;
        continue;
      }
      kept.push_back(std::move(n));
    }
    g.nodes = std::move(kept);
    changed += fold_constants(g);
    if (!changed) return total;
    total += changed;
  }
}

// The folded graphs for two batch sizes differ exactly where a Reshape target carries the batch: there
// it becomes 0 (copy the input's leading dimension) when that is where the batch is, else -1 when the
// target has no -1 yet. Returns how many targets were made batch-independent.
int generalize_batch(Graph& g, const Graph& other, int64_t b1, int64_t b2) {
  std::map<std::string, ValueInfo> s1, s2;
  try {
    s1 = infer_known_shapes(g, b1), s2 = infer_known_shapes(other, b2);
  } catch (const std::runtime_error&) {
    return 0;  // inputs with dynamic non-batch dimensions: nothing was folded either
  }
  std::map<std::string, const Node*> other_reshapes;
  for (const Node& m : other.nodes)
    if (m.op == "Reshape") other_reshapes[m.name] = &m;
  int changed = 0;
  for (Node& n : g.nodes) {
    if (n.op != "Reshape" || n.inputs.size() != 2 || !g.is_initializer(n.inputs[1])) continue;
    auto found = other_reshapes.find(n.name);
    const Node* m = found == other_reshapes.end() ? nullptr : found->second;
    if (!m || m->inputs.size() != 2 || !other.is_initializer(m->inputs[1])) continue;
    std::vector<int64_t> t1 = g.initializers.at(n.inputs[1]).to_int64s(), t2 = other.initializers.at(m->inputs[1]).to_int64s();
    if (t1.size() != t2.size() || t1 == t2) continue;
    std::vector<size_t> diff;
    for (size_t i = 0; i < t1.size(); ++i)
      if (t1[i] != t2[i]) diff.push_back(i);
    if (diff.size() != 1) continue;
    const size_t p = diff[0];
    auto x1 = s1.find(n.inputs[0]), x2 = s2.find(m->inputs[0]);
    const bool batch_dim = p == 0 && x1 != s1.end() && x2 != s2.end() && !x1->second.shape.empty() &&
                           x1->second.shape[0] == b1 && x2->second.shape[0] == b2 && t1[0] == b1 && t2[0] == b2;
    bool has_infer = false;
    for (int64_t v : t1) has_infer |= v == -1;
    const bool copy_batch = batch_dim && !n.attrs.i("allowzero", 0);  // 0 means "copy" only without allowzero
    if (!copy_batch && has_infer) continue;
    t1[p] = copy_batch ? 0 : -1;
    // A new initializer: the folded one may feed other nodes.
    std::string name = n.name + "/batch_free_shape";
    while (g.initializers.count(name)) name += "_";
    g.initializers[name] = Tensor::int64s({static_cast<int64_t>(t1.size())}, t1);
    g.buffers.insert(name);
    n.inputs[1] = name;
    ++changed;
  }
  if (changed) eliminate_dead_nodes(g);
  return changed;
}
}  // namespace

int fold_shapes(Graph& g) {
  bool has_shape = false;
  for (const Node& n : g.nodes) has_shape |= n.op == "Shape";
  if (!has_shape) return 0;
  // A second copy whose inputs have a dynamic leading dimension, folded with another batch size.
  Graph other = g;
  for (ValueInfo& v : other.inputs)
    if (!v.shape.empty()) v.shape[0] = -1;
  int64_t b1 = 1;
  if (!g.inputs.empty() && !g.inputs[0].shape.empty() && g.inputs[0].shape[0] > 0) b1 = g.inputs[0].shape[0];
  const int64_t b2 = b1 == 2 ? 3 : 2;
  const size_t before = g.nodes.size();
  fold_for_batch(g, b1);
  fold_for_batch(other, b2);
  generalize_batch(g, other, b1, b2);
  return static_cast<int>(before - g.nodes.size());
}

}  // namespace qforge::ir
