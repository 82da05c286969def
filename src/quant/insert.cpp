#include "qforge/quant/insert.h"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include "qforge/quant/bn_fold.h"
#include "qforge/quant/fake_quant_node.h"

namespace qforge::quant {

namespace {
bool is_layer(const ir::Node& n) { return n.op == "Conv" || n.op == "Gemm" || n.op == "MatMul"; }

// The constant a layer's weight input holds: the initializer itself, or the one a BnFoldWeight node
// (BatchNorm folded for QAT) scales. Null when the weight is computed otherwise.
const ir::Tensor* weight_of(const ir::Graph& g, const ir::Node& n) {
  if (n.inputs.size() < 2) return nullptr;
  std::string v = n.inputs[1];
  if (const ir::Node* p = g.producer(v); p && p->op == kBnFoldWeightOp) v = p->inputs.at(0);
  return g.is_initializer(v) ? &g.initializers.at(v) : nullptr;
}

// Merges `over` onto a copy of `base` (one level deep: quantizer sections are flat maps).
YAML::Node merged(const YAML::Node& base, const YAML::Node& over) {
  YAML::Node out = base.IsMap() ? YAML::Clone(base) : YAML::Node(YAML::NodeType::Map);
  if (over.IsMap())
    for (const auto& kv : over) out[kv.first.as<std::string>()] = YAML::Clone(kv.second);
  return out;
}

// Activations from a ReLU or a clip at zero are non-negative: an unsigned grid wastes no level.
bool non_negative(const ir::Graph& g, const std::string& value) {
  const ir::Node* p = g.producer(value);
  if (!p) return false;
  if (p->op == "Relu") return true;
  if (p->op == "Clip" && p->inputs.size() > 1 && g.is_initializer(p->inputs[1]))
    return g.initializers.at(p->inputs[1]).to_floats().at(0) >= 0.f;
  // Min of non-negative values (a per-channel clip after a ReLU, left by cross-layer equalization).
  if (p->op == "Min" && !p->inputs.empty())
    return std::all_of(p->inputs.begin(), p->inputs.end(), [&](const std::string& v) {
      if (!g.is_initializer(v)) return non_negative(g, v);
      const std::vector<float> b = g.initializers.at(v).to_floats();
      return std::all_of(b.begin(), b.end(), [](float x) { return x >= 0.f; });
    });
  if (p->op == "MaxPool" || p->op == "AveragePool" || p->op == "GlobalAveragePool" || p->op == "Flatten" ||
      p->op == "Reshape" || p->op == "Identity")
    return non_negative(g, p->inputs.at(0));
  return false;
}

// A first or last layer at first_last_bits keeps the section's method when the method can represent that
// width on an integer grid (and, for activations, a signed input); otherwise it switches to the uniform
// quantizer, since the papers keep those layers at plain 8-bit while binary / half-wave / codebook /
// power-of-two methods cannot express that (and an 8-bit codebook would not export as int8 either).
YAML::Node at_width(const YAML::Node& sec, int bits, Role r, bool signed_input, const std::string& key) {
  YAML::Node b;
  b["bits"] = bits;
  const std::vector<std::string> known = method_names();
  const std::string name = sec["method"] && sec["method"].IsScalar() ? sec["method"].Scalar() : "";
  if (std::find(known.begin(), known.end(), name) == known.end()) return merged(sec, b);  // resolve reports it
  const QuantMethod& m = method(name);
  if (bits >= m.min_bits() && bits <= m.max_bits() && (r == Role::Weight || !signed_input || m.supports_signed()) &&
      m.integer_grid(resolve_quantizer(merged(sec, b), r, key)))
    return merged(sec, b);
  YAML::Node u = YAML::Load("{method: uniform}");
  u["bits"] = bits;
  for (const char* k : {"per_channel", "signed"})
    if (sec[k]) u[k] = YAML::Clone(sec[k]);
  return u;
}

// An activation section with `signed` filled in from the value when the recipe leaves it out: unsigned
// after a ReLU. A clone: assigning to a node that shares the section would rewrite it for later layers.
YAML::Node with_sign_of(const ir::Graph& g, const std::string& value, const YAML::Node& sec) {
  if (sec["signed"]) return YAML::Clone(sec);
  return merged(sec, YAML::Load(non_negative(g, value) ? "{signed: false}" : "{signed: true}"));
}

// Adds the quantizer's parameters and node; returns the quantized value's name.
std::string add_quantizer(ir::Graph& g, std::vector<ir::Node>& new_nodes, const std::string& node_name,
                          const std::string& value, const QuantizerConfig& c, Role r, const std::vector<int64_t>& shape) {
  const QuantMethod& m = method(c.method);
  ir::Node q;
  q.name = node_name;
  q.op = kFakeQuantOp;
  q.inputs.push_back(value);
  for (ParamSpec& p : m.params(c, r, shape)) {
    std::string pname = node_name + "." + p.suffix;
    g.initializers[pname] = std::move(p.init);
    if (!p.trainable) g.buffers.insert(pname);
    q.inputs.push_back(pname);
  }
  std::string flag = node_name + ".initialized";
  g.initializers[flag] = ir::Tensor::floats({}, {0.f});
  g.buffers.insert(flag);
  q.inputs.push_back(flag);
  q.outputs.push_back(node_name);
  config_to_attrs(c, r, q.attrs);
  new_nodes.push_back(std::move(q));
  return node_name;
}

// quantize.adds: the inputs of every Add of two computed tensors (a residual connection) and its output (after
// the ReLU that alone reads it) get activation quantizers, as PyTorch FX quantizes add / add_relu. Every reader
// of such a value reads the quantized one, so a layer fed by it needs no quantizer of its own and the deployed
// model's residual stream is integer (a QDQ runtime runs the Add as an integer add). Graph outputs stay float.
void quantize_adds(ir::Graph& g, const QuantizeConfig& cfg) {
  std::set<std::string> marked;
  for (const ir::Node& n : g.nodes) {
    if (n.op != "Add" || n.inputs.size() != 2 || g.is_initializer(n.inputs[0]) || g.is_initializer(n.inputs[1])) continue;
    const std::vector<const ir::Node*> readers = g.consumers(n.outputs.at(0));
    const std::string post = readers.size() == 1 && readers[0]->op == "Relu" ? readers[0]->outputs.at(0) : n.outputs.at(0);
    for (const std::string& v : {n.inputs[0], n.inputs[1], post})
      if (!g.is_output(v)) marked.insert(v);
  }
  if (marked.empty()) return;
  std::map<std::string, std::string> quantized;  // value -> its quantizer's output
  std::vector<ir::Node> out;
  auto quantize = [&](const std::string& v, const std::string& name) {
    const QuantizerConfig c = resolve_quantizer(with_sign_of(g, v, cfg.activations.node), Role::Activation, "quantize.activations");
    quantized[v] = add_quantizer(g, out, name, v, c, Role::Activation, {});
  };
  for (const ir::ValueInfo& in : g.inputs)
    if (marked.count(in.name)) quantize(in.name, in.name + ".oq");
  for (ir::Node n : g.nodes) {
    for (std::string& in : n.inputs)
      if (auto it = quantized.find(in); it != quantized.end()) in = it->second;
    const std::vector<std::string> outs = n.outputs;
    const std::string name = n.name;
    out.push_back(std::move(n));
    for (size_t k = 0; k < outs.size(); ++k)
      if (marked.count(outs[k])) quantize(outs[k], name + (k ? ".oq" + std::to_string(k) : ".oq"));
  }
  g.nodes = std::move(out);
}

// The activation quantizer whose output `value` is, or null.
const ir::Node* activation_quantizer(const ir::Graph& g, const std::string& value) {
  const ir::Node* p = g.producer(value);
  return p && p->op == kFakeQuantOp && role_of(*p) == Role::Activation ? p : nullptr;
}
}  // namespace

std::vector<QuantizedLayer> insert_fake_quant(ir::Graph& g, const QuantizeConfig& cfg) {
  register_quantization();
  for (const ir::Node& n : g.nodes)
    if (n.op == kFakeQuantOp) throw std::runtime_error("the model is already quantized (node '" + n.name + "')");
  auto layer_indices = [&] {
    std::vector<size_t> r;
    for (size_t i = 0; i < g.nodes.size(); ++i)
      if (is_layer(g.nodes[i])) r.push_back(i);
    return r;
  };
  std::vector<size_t> layers = layer_indices();
  if (layers.empty()) throw std::runtime_error("quantize: the model has no Conv, Gemm or MatMul layer to quantize");
  if (cfg.adds && cfg.activations.present) {
    quantize_adds(g, cfg);
    layers = layer_indices();  // the Adds' quantizers moved them
  }
  std::vector<bool> override_used(cfg.overrides.size(), false);
  std::vector<QuantizedLayer> report;
  std::vector<ir::Node> out;
  size_t next_layer = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node n = g.nodes[i];
    if (next_layer >= layers.size() || layers[next_layer] != i) {
      out.push_back(std::move(n));
      continue;
    }
    const bool first = next_layer == 0, last = next_layer + 1 == layers.size();
    ++next_layer;
    bool keep = false;
    for (const std::string& k : cfg.keep_float) keep |= k == n.name || (k == "first" && first) || (k == "last" && last);
    // Clones: assigning to a YAML::Node that shares cfg's node would rewrite cfg for every later layer.
    YAML::Node wsec = cfg.weights.present ? YAML::Clone(cfg.weights.node) : YAML::Node();
    YAML::Node asec = cfg.activations.present ? YAML::Clone(cfg.activations.node) : YAML::Node();
    bool enable = true;
    std::string wkey = "quantize.weights", akey = "quantize.activations";
    for (size_t k = 0; k < cfg.overrides.size(); ++k) {
      const LayerOverride& o = cfg.overrides[k];
      if (!std::regex_match(n.name, o.re)) continue;
      override_used[k] = true;
      if (o.enable) enable = *o.enable;
      if (o.weights.IsMap()) wsec = merged(wsec, o.weights), wkey = "quantize.overrides[" + std::to_string(k) + "].weights";
      if (o.activations.IsMap()) asec = merged(asec, o.activations), akey = "quantize.overrides[" + std::to_string(k) + "].activations";
    }
    QuantizedLayer rep{n.name, n.op, "", "", 0, 0};
    if (keep && cfg.first_last_bits > 0) {
      if (wsec.IsMap()) wsec = at_width(wsec, cfg.first_last_bits, Role::Weight, true, wkey);
      if (asec.IsMap()) {
        const bool signed_input = asec["signed"] ? asec["signed"].as<bool>(true) : !non_negative(g, n.inputs[0]);
        asec = at_width(asec, cfg.first_last_bits, Role::Activation, signed_input, akey);
      }
      keep = false;
    }
    if (enable && !keep) {
      if (const ir::Tensor* w = weight_of(g, n); wsec.IsMap() && w) {
        QuantizerConfig c = resolve_quantizer(wsec, Role::Weight, wkey);
        std::vector<int64_t> shape = w->shape;
        if (n.op == "Gemm" && n.attrs.i("transB", 0) == 0 && c.per_channel)
          throw std::runtime_error(wkey + ".per_channel: layer '" + n.name + "' stores its weight as [in, out]; per-channel needs transB=1");
        n.inputs[1] = add_quantizer(g, out, n.name + ".wq", n.inputs[1], c, Role::Weight, shape);
        rep.weight_quantizer = n.name + ".wq";
        rep.weight_bits = c.bits;
      }
      if (const ir::Node* aq = activation_quantizer(g, n.inputs[0]); asec.IsMap() && aq) {
        rep.activation_quantizer = aq->name;  // an Add's quantizer (quantize.adds) already feeds this layer
        rep.activation_bits = config_from_node(*aq).bits;
      } else if (asec.IsMap()) {
        QuantizerConfig c = resolve_quantizer(with_sign_of(g, n.inputs[0], asec), Role::Activation, akey);
        n.inputs[0] = add_quantizer(g, out, n.name + ".aq", n.inputs[0], c, Role::Activation, {});
        rep.activation_quantizer = n.name + ".aq";
        rep.activation_bits = c.bits;
      }
    }
    report.push_back(rep);
    out.push_back(std::move(n));
  }
  for (size_t k = 0; k < cfg.overrides.size(); ++k)
    if (!override_used[k]) {
      std::string names;
      for (size_t i : layers) names += (names.empty() ? "" : ", ") + g.nodes[i].name;
      throw std::runtime_error("quantize.overrides[" + std::to_string(k) + "].match: \"" + cfg.overrides[k].match +
                               "\" matches no layer; layers are: " + names);
    }
  g.nodes = std::move(out);
  g.validate();
  return report;
}

}  // namespace qforge::quant
