#include <cmath>
#include <stdexcept>

#include "qforge/ir/passes.h"

namespace qforge::ir {

namespace {
std::vector<float> init_floats(const Graph& g, const Node& n, size_t k) {
  if (k >= n.inputs.size() || !g.is_initializer(n.inputs[k]))
    throw std::runtime_error("fold_batchnorm: node '" + n.name + "' input " + std::to_string(k) + " is not constant");
  return g.initializers.at(n.inputs[k]).to_floats();
}
}  // namespace

int fold_batchnorm(Graph& g) {
  int folded = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node& bn = g.nodes[i];
    if (bn.op != "BatchNormalization" || bn.inputs.size() < 5) continue;
    bool extra_outputs = false;  // training-mode BN exporting its statistics cannot fold
    for (size_t k = 1; k < bn.outputs.size(); ++k) extra_outputs |= !bn.outputs[k].empty();
    if (extra_outputs) continue;
    bool stats_const = true;
    for (size_t k = 1; k < 5; ++k) stats_const &= g.is_initializer(bn.inputs[k]);
    if (!stats_const) continue;
    Node* layer = const_cast<Node*>(g.producer(bn.inputs[0]));
    if (!layer || !g.sole_consumer(bn.inputs[0])) continue;
    if (layer->op != "Conv" && !(layer->op == "Gemm" && layer->attrs.i("transB", 0) == 1 &&
                                 layer->attrs.f("alpha", 1.0) == 1.0 && layer->attrs.f("beta", 1.0) == 1.0))
      continue;
    if (layer->inputs.size() < 2 || !g.is_initializer(layer->inputs[1])) continue;

    std::vector<float> gamma = init_floats(g, bn, 1), beta = init_floats(g, bn, 2), mean = init_floats(g, bn, 3),
                       var = init_floats(g, bn, 4);
    double eps = bn.attrs.f("epsilon", 1e-5);
    Tensor& w = g.initializers.at(layer->inputs[1]);
    const int64_t out_ch = w.shape.at(0);
    if (static_cast<int64_t>(gamma.size()) != out_ch) continue;
    std::vector<float> wf = w.to_floats();
    const int64_t per = w.numel() / out_ch;
    std::vector<float> bias(out_ch, 0.f);
    if (layer->inputs.size() > 2 && !layer->inputs[2].empty()) bias = init_floats(g, *layer, 2);
    for (int64_t c = 0; c < out_ch; ++c) {
      double s = gamma[c] / std::sqrt(static_cast<double>(var[c]) + eps);
      if (var[c] <= kConstantChannelVar * eps) {
        // A channel whose output never varied on the statistics' data (a dead filter): BN maps it to beta.
        // Folding would scale its weights by gamma / sqrt(eps) (~300x), which then sets the quantization
        // range of the whole tensor and of the layers CLE equalizes with it. Its weights carry nothing.
        for (int64_t k = 0; k < per; ++k) wf[c * per + k] = 0.f;
        bias[c] = beta[c];
        continue;
      }
      for (int64_t k = 0; k < per; ++k) wf[c * per + k] = static_cast<float>(wf[c * per + k] * s);
      bias[c] = static_cast<float>((bias[c] - mean[c]) * s + beta[c]);
    }
    w = Tensor::floats(w.shape, wf);
    std::string bias_name = layer->inputs.size() > 2 && !layer->inputs[2].empty() ? layer->inputs[2] : layer->name + ".bias";
    for (int k = 1; g.initializers.count(bias_name) && (layer->inputs.size() <= 2 || layer->inputs[2] != bias_name); ++k)
      bias_name = layer->name + ".bias_" + std::to_string(k);
    g.initializers[bias_name] = Tensor::floats({out_ch}, bias);
    layer->inputs.resize(3);
    layer->inputs[2] = bias_name;
    // The layer now produces what the BatchNormalization produced.
    layer->outputs[0] = bn.outputs[0];
    g.nodes.erase(g.nodes.begin() + static_cast<long>(i));
    --i;
    ++folded;
  }
  if (folded) eliminate_dead_nodes(g);
  return folded;
}

}  // namespace qforge::ir
