// Shape inference driver: walks the nodes in order, applying each op's rule (shape_rules_*.cpp).
#include "qforge/ir/shape_inference.h"

#include <set>
#include <stdexcept>

#include "qforge/ir/index_math.h"
#include "shape_rules.h"

namespace qforge::ir {

namespace shape {

const ValueInfo& Ctx::in(size_t k) const {
  if (!has(k)) fail("input " + std::to_string(k) + " is required but not given");
  auto it = values_.find(n_.inputs[k]);
  if (it == values_.end())
    fail("input " + std::to_string(k) + " '" + n_.inputs[k] +
         "' has no known shape (no graph input, initializer or earlier node provides it)");
  return it->second;
}

const Tensor* Ctx::constant(size_t k) const {
  if (!has(k)) return nullptr;
  auto it = g_.initializers.find(n_.inputs[k]);
  return it == g_.initializers.end() ? nullptr : &it->second;
}

void Ctx::arity(size_t lo, size_t hi) const {
  size_t n = n_.inputs.size();
  while (n > 0 && n_.inputs[n - 1].empty()) --n;  // trailing omitted optionals
  if (n < lo || n > hi)
    fail("takes " + (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
         " inputs, got " + std::to_string(n));
}

void Ctx::fail(const std::string& why) const {
  throw std::runtime_error("shape inference: node '" + n_.name + "' (" + n_.op + "): " + why);
}

ValueInfo info(DType t, std::vector<int64_t> shape) { return ValueInfo{"", t, std::move(shape)}; }

std::string str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t axis(const Ctx& c, int64_t a, int64_t rank, bool inclusive_end) {
  const int64_t lo = -rank, hi = inclusive_end ? rank : rank - 1;
  if (a < lo || a > hi)
    c.fail("axis " + std::to_string(a) + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) +
           "] for rank " + std::to_string(rank));
  return a < 0 ? a + rank : a;
}

std::vector<int64_t> broadcast(const Ctx& c, const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  return with_reason([&] { return broadcast_shapes(a, b); }, [&](const std::string& why) { c.fail(why); });
}

bool broadcasts_to(const std::vector<int64_t>& b, const std::vector<int64_t>& a) {
  if (b.size() > a.size()) return false;
  for (size_t k = 0; k < b.size(); ++k) {
    int64_t db = b[b.size() - 1 - k], da = a[a.size() - 1 - k];
    if (db != 1 && db != da) return false;
  }
  return true;
}

namespace {
const std::map<std::string, Rule>& rules() {
  static const std::map<std::string, Rule> r = [] {
    std::map<std::string, Rule> m;
    add_conv_pool_rules(m);
    add_linear_norm_rules(m);
    add_elementwise_rules(m);
    add_layout_rules(m);
    add_index_rules(m);
    return m;
  }();
  return r;
}
}  // namespace

}  // namespace shape

namespace {
std::map<std::string, ValueInfo> infer(const Graph& g, int64_t batch, bool partial) {
  if (batch < 1) throw std::invalid_argument("shape inference: batch must be >= 1, got " + std::to_string(batch));
  std::map<std::string, ValueInfo> values;
  for (const auto& [name, t] : g.initializers) values[name] = ValueInfo{name, t.dtype, t.shape};
  for (const ValueInfo& v : g.inputs) {
    ValueInfo vi = v;
    for (size_t d = 0; d < vi.shape.size(); ++d) {
      if (vi.shape[d] >= 0) continue;
      if (d != 0)
        throw std::runtime_error("shape inference: graph input '" + v.name + "' " + shape::str(v.shape) +
                                 " has a dynamic dimension " + std::to_string(d) +
                                 "; only the leading (batch) dimension may be dynamic");
      vi.shape[d] = batch;
    }
    values[v.name] = vi;  // a graph input shadows an initializer of the same name, as in ONNX
  }
  for (const Node& n : g.nodes) {
    shape::Ctx c(g, n, values);
    auto it = shape::rules().find(n.op);
    if (it == shape::rules().end()) {
      if (partial) continue;
      c.fail("unsupported op");
    }
    std::vector<ValueInfo> outs;
    try {
      outs = it->second(c);
    } catch (const std::runtime_error& e) {
      if (partial) continue;
      const std::string what = e.what();
      if (what.rfind("shape inference:", 0) == 0) throw;
      c.fail(what);  // e.g. an attribute of the wrong type
    }
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      if (n.outputs[k].empty()) continue;
      if (k >= outs.size() && partial) break;
      if (k >= outs.size()) c.fail("output " + std::to_string(k) + " '" + n.outputs[k] + "' is not supported");
      outs[k].name = n.outputs[k];
      values[n.outputs[k]] = outs[k];
    }
  }
  if (partial) return values;
  for (const ValueInfo& v : g.outputs)
    if (!values.count(v.name)) throw std::runtime_error("shape inference: graph output '" + v.name + "' is never produced");
  return values;
}
}  // namespace

std::map<std::string, ValueInfo> infer_shapes(const Graph& g, int64_t batch) { return infer(g, batch, false); }
std::map<std::string, ValueInfo> infer_known_shapes(const Graph& g, int64_t batch) { return infer(g, batch, true); }

std::vector<LayerCost> layer_costs(const Graph& g, int64_t batch) {
  const std::map<std::string, ValueInfo> values = infer_shapes(g, batch);
  std::vector<LayerCost> out;
  out.reserve(g.nodes.size());
  for (const Node& n : g.nodes) {
    LayerCost c;
    c.node = n.name;
    c.op = n.op;
    if (!n.outputs.empty() && !n.outputs[0].empty()) c.out_shape = values.at(n.outputs[0]).shape;
    std::set<std::string> seen;
    for (const std::string& v : n.inputs) {
      auto it = g.initializers.find(v);
      if (it == g.initializers.end() || g.buffers.count(v) || !seen.insert(v).second) continue;
      if (it->second.dtype == DType::Float32 || it->second.dtype == DType::Float64) c.params += it->second.numel();
    }
    auto in_shape = [&](size_t k) -> const std::vector<int64_t>& { return values.at(n.inputs.at(k)).shape; };
    if (n.op == "Conv") {
      const std::vector<int64_t>& w = in_shape(1);  // [Cout, Cin/group, k...]
      if (!w.empty() && w[0] > 0) c.macs = shape::numel(c.out_shape) * (shape::numel(w) / w[0]);
    } else if (n.op == "Gemm") {
      const std::vector<int64_t>& a = in_shape(0);
      c.macs = shape::numel(c.out_shape) * (n.attrs.i("transA", 0) ? a[0] : a[1]);
    } else if (n.op == "MatMul") {
      c.macs = shape::numel(c.out_shape) * in_shape(0).back();
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace qforge::ir
