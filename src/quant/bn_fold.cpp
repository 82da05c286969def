#include "qforge/quant/bn_fold.h"

#include <algorithm>
#include <stdexcept>

#include "qforge/exec/op_registry.h"
#include "qforge/exec/tensor_convert.h"
#include "qforge/ir/passes.h"
#include "qforge/quant/fake_quant_node.h"

namespace qforge::quant {

at::Tensor bn_fold_scale(const at::Tensor& gamma, const at::Tensor& var, double eps) {
  at::Tensor s = gamma * (var + eps).rsqrt();
  return at::where(var <= ir::kConstantChannelVar * eps, at::zeros_like(s), s);
}

namespace {
// The per-channel factor shaped to broadcast along `axis` of a rank-`rank` tensor.
at::Tensor along(const at::Tensor& s, int64_t axis, int64_t rank) {
  std::vector<int64_t> shape(static_cast<size_t>(rank), 1);
  shape[static_cast<size_t>(axis)] = s.numel();
  return s.reshape(shape);
}

double epsilon(const ir::Node& n) { return n.attrs.f("epsilon", 1e-5); }

// BnFoldWeight(W, gamma, var) = W * s along the output channels (axis 0).
std::vector<at::Tensor> fold_weight(const ir::Node& n, const std::vector<at::Tensor>& in, exec::OpContext&) {
  const at::Tensor &w = exec::input(n, in, 0), &gamma = exec::input(n, in, 1), &var = exec::input(n, in, 2);
  if (!w.defined() || !gamma.defined() || !var.defined()) exec::op_error(n, "needs weight, gamma and var");
  if (w.size(0) != gamma.numel()) exec::op_error(n, "weight has " + std::to_string(w.size(0)) + " output channels, BatchNorm " + std::to_string(gamma.numel()));
  return {w * along(bn_fold_scale(gamma, var, epsilon(n)), 0, w.dim())};
}

// BnUnfold(y, gamma, var, bias?) = y / s + bias along channels (axis 1); channels with s = 0 had zero
// weights, so they are just the bias. The division is masked before it happens: a where() after 1/0
// would still send NaN into gamma's gradient.
std::vector<at::Tensor> unfold(const ir::Node& n, const std::vector<at::Tensor>& in, exec::OpContext&) {
  const at::Tensor &y = exec::input(n, in, 0), &gamma = exec::input(n, in, 1), &var = exec::input(n, in, 2);
  const at::Tensor& b = exec::input(n, in, 3);
  if (!y.defined() || !gamma.defined() || !var.defined()) exec::op_error(n, "needs input, gamma and var");
  at::Tensor s = bn_fold_scale(gamma, var, epsilon(n));
  at::Tensor zero = s.eq(0);
  at::Tensor inv = at::where(zero, at::zeros_like(s), 1 / at::where(zero, at::ones_like(s), s));
  at::Tensor out = y * along(inv, 1, y.dim());
  return {b.defined() ? out + along(b, 1, y.dim()) : out};
}

size_t index_of(const ir::Graph& g, const ir::Node* n) { return static_cast<size_t>(n - g.nodes.data()); }

at::Tensor init(const ir::Graph& g, const std::string& name) { return exec::to_aten(g.initializers.at(name)).to(at::kFloat); }

[[noreturn]] void bad_chain(const ir::Node& n, const std::string& what) {
  throw std::runtime_error("BatchNorm fold: node '" + n.name + "' (" + n.op + "): " + what);
}
}  // namespace

int fold_batchnorm_for_qat(ir::Graph& g) {
  int n_folded = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& bn = g.nodes[i];
    if (bn.op != "BatchNormalization" || bn.inputs.size() < 5 || bn.outputs.size() != 1) continue;
    bool stats_const = true;
    for (size_t k = 1; k < 5; ++k) stats_const &= g.is_initializer(bn.inputs[k]);
    const ir::Node* conv = g.producer(bn.inputs[0]);
    if (!stats_const || !conv || conv->op != "Conv" || g.sole_consumer(bn.inputs[0]) != &bn) continue;
    if (conv->inputs.size() < 2 || !g.is_initializer(conv->inputs[1])) continue;
    if (g.initializers.at(conv->inputs[1]).shape.at(0) != g.initializers.at(bn.inputs[1]).numel()) continue;
    const std::string gamma = bn.inputs[1], var = bn.inputs[4];
    const double eps = epsilon(bn);
    const size_t ci = index_of(g, conv);
    ir::Node c = *conv;
    ir::Node fold{c.name + ".bn_fold", kBnFoldWeightOp, {c.inputs[1], gamma, var}, {c.name + ".folded_weight"}, {}};
    ir::Node unf{c.name + ".bn_unfold", kBnUnfoldOp, {c.outputs[0], gamma, var}, {c.name + ".unfolded"}, {}};
    fold.attrs.set("epsilon", eps);
    unf.attrs.set("epsilon", eps);
    if (c.inputs.size() > 2 && !c.inputs[2].empty()) unf.inputs.push_back(c.inputs[2]);
    c.inputs.resize(2);
    c.inputs[1] = fold.outputs[0];
    g.nodes[i].inputs[0] = unf.outputs[0];
    g.nodes[ci] = c;
    g.nodes.insert(g.nodes.begin() + static_cast<long>(ci) + 1, unf);
    g.nodes.insert(g.nodes.begin() + static_cast<long>(ci), fold);
    i += 2;
    ++n_folded;
  }
  if (n_folded) g.validate();
  return n_folded;
}

int fold_batchnorm_for_export(ir::Graph& g) {
  std::vector<std::string> chains;
  for (const ir::Node& n : g.nodes)
    if (n.op == kBnUnfoldOp) chains.push_back(n.name);
  for (const std::string& name : chains) {
    const ir::Node* unf_node = g.find_node(name);
    const ir::Node unf = *unf_node;
    const ir::Node* conv = g.producer(unf.inputs[0]);
    if (!conv || conv->op != "Conv" || g.sole_consumer(unf.inputs[0]) != unf_node) bad_chain(unf, "its input is not a Conv's output that only it reads");
    const ir::Node* bn = g.sole_consumer(unf.outputs[0]);
    if (!bn || bn->op != "BatchNormalization") bad_chain(unf, "a single BatchNormalization must read its output");
    const ir::Node* fold = g.producer(conv->inputs.at(1));
    if (fold && fold->op == kFakeQuantOp) fold = g.producer(fold->inputs.at(0));
    if (!fold || fold->op != kBnFoldWeightOp) bad_chain(*conv, "its weight does not come from a BnFoldWeight node");
    if (fold->inputs.at(1) != bn->inputs.at(1) || fold->inputs.at(2) != bn->inputs.at(4) || unf.inputs.at(1) != bn->inputs.at(1) ||
        unf.inputs.at(2) != bn->inputs.at(4) || epsilon(*fold) != epsilon(*bn) || epsilon(unf) != epsilon(*bn))
      bad_chain(unf, "its gamma, var or epsilon differ from BatchNormalization '" + bn->name + "'");
    for (const std::string& v : {fold->inputs[0], bn->inputs[1], bn->inputs[2], bn->inputs[3], bn->inputs[4]})
      if (!g.is_initializer(v)) bad_chain(*bn, "'" + v + "' is not a constant");
    at::Tensor s = bn_fold_scale(init(g, bn->inputs[1]), init(g, bn->inputs[4]), epsilon(*bn));
    at::Tensor w = init(g, fold->inputs[0]);
    at::Tensor b = unf.inputs.size() > 3 && !unf.inputs[3].empty() ? init(g, unf.inputs[3]) : at::zeros_like(s);
    // BatchNorm(y / s + b) with running statistics = y + (b - mean) * s + beta.
    at::Tensor bias = (b - init(g, bn->inputs[3])) * s + init(g, bn->inputs[2]);
    // The folded weight keeps the value name the weight quantizer (or the Conv) reads.
    g.initializers[fold->outputs[0]] = exec::to_ir(w * along(s, 0, w.dim()));
    std::string bias_name = conv->name + ".bias";
    for (int k = 1; g.initializers.count(bias_name); ++k) bias_name = conv->name + ".bias_" + std::to_string(k);
    g.initializers[bias_name] = exec::to_ir(bias);
    const std::string out = bn->outputs[0], bn_name = bn->name, fold_name = fold->name;
    ir::Node& c = g.nodes[index_of(g, conv)];
    c.inputs.resize(3);
    c.inputs[2] = bias_name;
    c.outputs[0] = out;
    g.nodes.erase(std::remove_if(g.nodes.begin(), g.nodes.end(),
                                 [&](const ir::Node& n) { return n.name == unf.name || n.name == bn_name || n.name == fold_name; }),
                  g.nodes.end());
  }
  if (!chains.empty()) {
    ir::eliminate_dead_nodes(g);
    g.validate();
  }
  return static_cast<int>(chains.size());
}

void register_bn_fold_ops() {
  exec::OpRegistry::instance().add(kBnFoldWeightOp, fold_weight);
  exec::OpRegistry::instance().add(kBnUnfoldOp, unfold);
}

}  // namespace qforge::quant
