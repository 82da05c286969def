#include "qforge/compress/cle.h"

#include "qforge/ir/passes.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace qforge::compress {

namespace {

// A layer whose weight rows are output channels: Conv, or Gemm with W stored [out, in].
bool is_weight_layer(const ir::Graph& g, const ir::Node& n) {
  if (n.inputs.size() < 2 || !g.is_initializer(n.inputs[1])) return false;
  if (g.initializers.at(n.inputs[1]).dtype != ir::DType::Float32) return false;
  // Scaling a weight or bias that another node also reads would change that node too.
  if (g.consumers(n.inputs[1]).size() != 1) return false;
  if (n.inputs.size() > 2 && !n.inputs[2].empty() && (!g.is_initializer(n.inputs[2]) || g.consumers(n.inputs[2]).size() != 1))
    return false;
  if (n.op == "Conv") return true;
  return n.op == "Gemm" && n.attrs.i("transA", 0) == 0 && n.attrs.i("transB", 0) == 1;
}

// The only reader of `v` (Graph::sole_consumer), writable: the pass rescales its weights.
ir::Node* sole_reader(ir::Graph& g, const std::string& v) { return const_cast<ir::Node*>(g.sole_consumer(v)); }

// Clip's bounds (opset 11+ inputs, or the attributes of older opsets); absent = unbounded.
void clip_bounds(const ir::Graph& g, const ir::Node& n, double* lo, double* hi) {
  *lo = n.attrs.f("min", -INFINITY);
  *hi = n.attrs.f("max", INFINITY);
  if (n.inputs.size() > 1 && !n.inputs[1].empty() && g.is_initializer(n.inputs[1])) *lo = g.initializers.at(n.inputs[1]).to_floats().at(0);
  if (n.inputs.size() > 2 && !n.inputs[2].empty() && g.is_initializer(n.inputs[2])) *hi = g.initializers.at(n.inputs[2]).to_floats().at(0);
}

struct Pair {
  std::string first, second;  // node names
  std::string relu6;           // a Clip(0, hi) between them to rewrite, if any
  std::string bound;           // the per-channel bound [C, 1, ...] of a Min between them, scaled with its channel
};

// A Min(x, bound) whose bound is a float initializer with one non-negative value per channel of x
// (x: [N, C, ...] with bound [C, 1, ...], or [N, C] with bound [C]): a per-channel clip, left by an
// earlier equalization. Returns the bound's name, or "".
std::string channel_bound(const ir::Graph& g, const ir::Node& n, int64_t channels, size_t rank) {
  if (n.op != "Min" || n.inputs.size() != 2 || !g.is_initializer(n.inputs[1])) return "";
  const ir::Tensor& b = g.initializers.at(n.inputs[1]);
  if (b.dtype != ir::DType::Float32 || b.numel() != channels || b.shape.size() != rank - 1 || b.shape.at(0) != channels) return "";
  if (g.consumers(n.inputs[1]).size() != 1) return "";
  for (float v : b.to_floats())
    if (!(v >= 0)) return "";
  return n.inputs[1];
}

std::vector<Pair> find_pairs(ir::Graph& g, const CleOptions& o) {
  std::vector<Pair> pairs;
  for (ir::Node& n : g.nodes) {
    if (!is_weight_layer(g, n) || n.outputs.empty()) continue;
    ir::Node* next = sole_reader(g, n.outputs[0]);
    if (!next) continue;
    Pair p{n.name, "", "", ""};
    const int64_t out1 = g.initializers.at(n.inputs[1]).shape.at(0);
    const size_t out_rank = n.op == "Conv" ? g.initializers.at(n.inputs[1]).shape.size() : 2;
    if (next->op == "Relu" || next->op == "Clip") {
      if (next->op == "Clip") {
        double lo, hi;
        clip_bounds(g, *next, &lo, &hi);
        if (lo != 0.0) continue;
        if (std::isfinite(hi)) {
          if (o.relu6 == Relu6Handling::Keep) continue;
          p.relu6 = next->name;
        }
      }
      next = sole_reader(g, next->outputs[0]);
      if (!next) continue;
      if (next->op == "Min" && p.relu6.empty()) {
        p.bound = channel_bound(g, *next, out1, out_rank);
        if (p.bound.empty()) continue;
        next = sole_reader(g, next->outputs[0]);
        if (!next) continue;
      }
    }
    if (!is_weight_layer(g, *next) || next->inputs[0] == next->inputs[1]) continue;
    const ir::Tensor& w2 = g.initializers.at(next->inputs[1]);
    const int64_t in2 = next->op == "Conv" ? w2.shape.at(1) * next->attrs.i("group", 1) : w2.shape.at(1);
    if (in2 != out1 || w2.shape.at(0) % (next->op == "Conv" ? next->attrs.i("group", 1) : 1) != 0) continue;
    p.second = next->name;
    pairs.push_back(p);
  }
  return pairs;
}

// Layer 2's weight viewed per input channel: for input channel i, the (row, column) blocks it scales.
// Conv weight [O, I/groups, k...]: channel i is column i % (I/groups) of the rows of group i / (I/groups).
struct InputChannelView {
  int64_t rows, cols_per_group, rows_per_group, inner;  // inner = kernel elements per (row, column)
  InputChannelView(const ir::Node& n, const ir::Tensor& w) {
    rows = w.shape.at(0);
    cols_per_group = w.shape.at(1);
    inner = w.numel() / (rows * cols_per_group);
    const int64_t groups = n.op == "Conv" ? n.attrs.i("group", 1) : 1;
    rows_per_group = rows / groups;
  }
  template <typename F> void for_each(int64_t channel, F&& f) const {
    const int64_t group = channel / cols_per_group, col = channel % cols_per_group;
    for (int64_t r = group * rows_per_group; r < (group + 1) * rows_per_group; ++r)
      for (int64_t k = 0; k < inner; ++k) f((r * cols_per_group + col) * inner + k);
  }
};

// One equalization step for a pair; returns the largest |s - 1|.
double equalize(ir::Graph& g, const Pair& p) {
  ir::Node& a = *g.find_node(p.first);
  ir::Node& b = *g.find_node(p.second);
  ir::Tensor& w1 = g.initializers.at(a.inputs[1]);
  ir::Tensor& w2 = g.initializers.at(b.inputs[1]);
  const int64_t channels = w1.shape.at(0), per_row = w1.numel() / channels;
  float* d1 = w1.data<float>();
  float* d2 = w2.data<float>();
  const InputChannelView v(b, w2);
  float* bias = nullptr;
  if (a.inputs.size() > 2 && !a.inputs[2].empty()) bias = g.initializers.at(a.inputs[2]).data<float>();
  float* bound = p.bound.empty() ? nullptr : g.initializers.at(p.bound).data<float>();
  double moved = 0;
  for (int64_t c = 0; c < channels; ++c) {
    double r1 = 0, r2 = 0;
    for (int64_t k = 0; k < per_row; ++k) r1 = std::max(r1, static_cast<double>(std::fabs(d1[c * per_row + k])));
    v.for_each(c, [&](int64_t i) { r2 = std::max(r2, static_cast<double>(std::fabs(d2[i]))); });
    if (r1 <= 0 || r2 <= 0) continue;  // a dead channel: nothing to balance
    const double s = std::sqrt(r1 / r2);
    moved = std::max(moved, std::fabs(s - 1));
    for (int64_t k = 0; k < per_row; ++k) d1[c * per_row + k] = static_cast<float>(d1[c * per_row + k] / s);
    if (bias) bias[c] = static_cast<float>(bias[c] / s);
    if (bound) bound[c] = static_cast<float>(bound[c] / s);
    v.for_each(c, [&](int64_t i) { d2[i] = static_cast<float>(d2[i] * s); });
  }
  return moved;
}

}  // namespace

Relu6Handling relu6_handling_from_name(const std::string& name) {
  if (name == "clip") return Relu6Handling::ChannelClip;
  if (name == "relu") return Relu6Handling::Relu;
  if (name == "keep") return Relu6Handling::Keep;
  throw std::invalid_argument("unknown ReLU6 handling '" + name + "' (clip | relu | keep)");
}

const char* relu6_handling_name(Relu6Handling h) {
  switch (h) {
    case Relu6Handling::ChannelClip: return "clip";
    case Relu6Handling::Relu: return "relu";
    case Relu6Handling::Keep: return "keep";
  }
  return "?";
}

namespace {
// Clip(x, 0, hi) -> Relu(x), and with ChannelClip Min(Relu(x), bound) where bound [C, 1, ...] holds hi for
// every channel of the pair's first layer. Returns the bound's name ("" with Relu).
std::string rewrite_relu6(ir::Graph& g, const Pair& p, Relu6Handling h) {
  const ir::Node& a = *g.find_node(p.first);
  const std::vector<int64_t>& w = g.initializers.at(a.inputs[1]).shape;
  std::vector<int64_t> shape(a.op == "Conv" ? w.size() - 1 : 1, 1);
  shape[0] = w.at(0);
  auto at = std::find_if(g.nodes.begin(), g.nodes.end(), [&](const ir::Node& n) { return n.name == p.relu6; });
  double lo, hi;
  clip_bounds(g, *at, &lo, &hi);
  at->op = "Relu";
  at->inputs.resize(1);
  at->attrs = {};
  if (h != Relu6Handling::ChannelClip) return "";
  ir::Node m;
  m.name = p.relu6 + ".channel_clip";
  m.op = "Min";
  const std::string bound = m.name + ".max";
  g.initializers[bound] = ir::Tensor::floats(shape, std::vector<float>(static_cast<size_t>(w.at(0)), static_cast<float>(hi)));
  m.outputs = at->outputs;
  at->outputs = {p.relu6 + ".relu"};
  m.inputs = {at->outputs[0], bound};
  g.nodes.insert(at + 1, std::move(m));
  return bound;
}
}  // namespace

CleResult cross_layer_equalize(ir::Graph& g, const CleOptions& o) {
  CleResult r;
  r.relu6 = o.relu6;
  std::vector<Pair> pairs = find_pairs(g, o);
  r.pairs = static_cast<int>(pairs.size());
  if (pairs.empty()) return r;
  for (Pair& p : pairs) {
    if (p.relu6.empty()) continue;
    p.bound = rewrite_relu6(g, p, o.relu6);
    ++r.relu6_rewritten;
  }
  if (r.relu6_rewritten) ir::eliminate_dead_nodes(g);  // the Clips' bounds
  // Parameters may be shared between pairs (a conv in the middle of a chain): sweep to a fixed point.
  for (r.sweeps = 1; r.sweeps <= o.max_sweeps; ++r.sweeps) {
    double moved = 0;
    for (const Pair& p : pairs) moved = std::max(moved, equalize(g, p));
    if (moved < o.tolerance) break;
  }
  r.sweeps = std::min(r.sweeps, o.max_sweeps);
  return r;
}

}  // namespace qforge::compress
