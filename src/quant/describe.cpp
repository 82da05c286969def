#include "qforge/quant/describe.h"

#include <map>
#include <set>
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

int64_t deployed_size_bytes(const ir::Graph& g) {
  register_quantization();
  std::map<std::string, int> weight_bits;  // initializer -> bits of the quantizer that reads it
  std::set<std::string> internal;          // quantizer state
  int64_t grid_bytes = 0;
  for (const ir::Node& n : g.nodes) {
    if (n.op != kFakeQuantOp) continue;
    const QuantizerConfig c = config_from_node(n);
    for (size_t i = 1; i < n.inputs.size(); ++i) internal.insert(n.inputs[i]);
    if (role_of(n) == Role::Weight && g.initializers.count(n.inputs.at(0))) weight_bits[n.inputs[0]] = c.bits;
    std::vector<at::Tensor> params;
    for (size_t i = 1; i + 1 < n.inputs.size(); ++i) {
      auto it = g.initializers.find(n.inputs[i]);
      if (it == g.initializers.end()) throw std::runtime_error("quantizer '" + n.name + "': its state '" + n.inputs[i] + "' is not in the model");
      params.push_back(exec::to_aten(it->second));
    }
    const GridSpec s = method(c.method).grid(c, role_of(n), params);
    for (const at::Tensor& t : {s.scale, s.zero_point, s.levels})
      if (t.defined()) grid_bytes += 4 * t.numel();
  }
  int64_t bytes = grid_bytes;
  for (const auto& [name, t] : g.initializers) {
    if (internal.count(name)) continue;
    auto it = weight_bits.find(name);
    bytes += it == weight_bits.end() ? static_cast<int64_t>(t.bytes.size()) : (t.numel() * it->second + 7) / 8;
  }
  return bytes;
}

}  // namespace qforge::quant
