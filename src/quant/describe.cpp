#include "qforge/quant/describe.h"

#include <stdexcept>

#include "qforge/exec/tensor_convert.h"
#include "qforge/quant/fake_quant_node.h"

namespace qforge::quant {

namespace {
// One number for a per-tensor value, {min, mean, max} for per-channel values.
nlohmann::json summary(const at::Tensor& t) {
  at::Tensor d = t.detach().to(at::kDouble).flatten();
  if (d.numel() == 1) return d.item<double>();
  return {{"min", d.min().item<double>()}, {"mean", d.mean().item<double>()}, {"max", d.max().item<double>()},
          {"channels", d.numel()}};
}

const char* grid_name(GridSpec::Kind k) {
  switch (k) {
    case GridSpec::Uniform: return "uniform";
    case GridSpec::Codebook: return "codebook";
    case GridSpec::PowerOfTwo: return "power-of-two";
  }
  return "?";
}
}  // namespace

nlohmann::json describe_quantizers(const ir::Graph& g) {
  register_quantization();
  nlohmann::json out = nlohmann::json::array();
  for (const ir::Node& n : g.nodes) {
    if (n.op != kFakeQuantOp) continue;
    const QuantizerConfig c = config_from_node(n);
    const Role r = role_of(n);
    std::vector<at::Tensor> params;
    for (size_t i = 1; i < n.inputs.size(); ++i) {
      auto it = g.initializers.find(n.inputs[i]);
      if (it == g.initializers.end())
        throw std::runtime_error("quantizer '" + n.name + "': its state '" + n.inputs[i] + "' is not in the model");
      params.push_back(exec::to_aten(it->second));
    }
    const bool initialized = !params.empty() && params.back().item<float>() != 0.f;
    params.pop_back();  // the 'initialized' flag
    nlohmann::json q = {{"node", n.name},          {"input", n.inputs.at(0)}, {"role", role_name(r)},
                        {"method", c.method},      {"bits", c.bits},          {"signed", c.is_signed},
                        {"granularity", c.per_channel ? "per-channel" : "per-tensor"}, {"initialized", initialized}};
    const GridSpec s = method(c.method).grid(c, r, params);
    q["grid"] = grid_name(s.kind);
    if (s.scale.defined()) q["scale"] = summary(s.scale);
    if (s.zero_point.defined() && s.kind == GridSpec::Uniform) q["zero_point"] = summary(s.zero_point);
    if (s.kind == GridSpec::Uniform) q["range"] = {s.qmin, s.qmax};
    if (s.levels.defined()) {
      at::Tensor lv = s.levels.detach().to(at::kDouble);
      if (lv.dim() > 1) lv = lv[0];
      lv = lv.flatten().slice(0, 0, 16).contiguous();
      q["levels"] = std::vector<double>(lv.data_ptr<double>(), lv.data_ptr<double>() + lv.numel());
    }
    out.push_back(std::move(q));
  }
  return out;
}

}  // namespace qforge::quant
