#include "qforge/quant/fake_quant_node.h"

#include <mutex>
#include <stdexcept>

#include "qforge/exec/op_registry.h"
#include "qforge/quant/bn_fold.h"

namespace qforge::quant {

void config_to_attrs(const QuantizerConfig& c, Role r, ir::Attributes& a) {
  a.set("method", c.method);
  a.set("role", std::string(role_name(r)));
  a.set("bits", int64_t{c.bits});
  a.set("per_channel", int64_t{c.per_channel});
  a.set("signed", int64_t{c.is_signed});
  a.set("noise", c.noise);
  std::vector<std::string> names;
  std::vector<double> values;
  for (const auto& [k, v] : c.options) names.push_back(k), values.push_back(v);
  a.set("option_names", names);
  a.set("option_values", values);
}

Role role_of(const ir::Node& n) { return n.attrs.s("role", "activations") == "weights" ? Role::Weight : Role::Activation; }

QuantizerConfig config_from_node(const ir::Node& n) {
  QuantizerConfig c;
  c.method = n.attrs.s("method", "");
  c.bits = static_cast<int>(n.attrs.i("bits"));
  c.per_channel = n.attrs.i("per_channel", 0) != 0;
  c.is_signed = n.attrs.i("signed", 1) != 0;
  c.noise = n.attrs.f("noise", 0.0);
  if (n.attrs.has("option_names")) {
    const auto& names = std::get<std::vector<std::string>>(n.attrs.all().at("option_names"));
    std::vector<double> values = n.attrs.floats("option_values", {});
    if (values.size() != names.size()) throw std::runtime_error("node '" + n.name + "': option_names and option_values differ in length");
    for (size_t i = 0; i < names.size(); ++i) c.options[names[i]] = values[i];
  }
  return c;
}

namespace {
thread_local CalibrationObserver active_observer;
thread_local bool observe_quantized = false;

std::vector<at::Tensor> fake_quant_kernel(const ir::Node& n, const std::vector<at::Tensor>& in, exec::OpContext& ctx) {
  if (in.size() < 2) exec::op_error(n, "needs the input and an 'initialized' flag");
  if (active_observer && !observe_quantized) {
    active_observer(n, in[0]);
    return {in[0]};
  }
  const QuantMethod& m = method(n.attrs.s("method", ""));
  const QuantizerConfig c = config_from_node(n);
  const Role r = role_of(n);
  std::vector<at::Tensor> params(in.begin() + 1, in.end() - 1);
  const at::Tensor& initialized = in.back();
  if (initialized.item<float>() == 0.f) {
    // First tensor seen: data-dependent initialization (LSQ step size, activation ranges, ...).
    at::NoGradGuard g;
    m.initialize(in[0].detach(), c, r, params);
    const_cast<at::Tensor&>(initialized).fill_(1.f);
  }
  at::Tensor y = m.forward(in[0], c, r, params, ctx.training);
  if (active_observer) active_observer(n, y);
  return {y};
}
}  // namespace

CalibrationScope::CalibrationScope(CalibrationObserver observer, bool quantize)
    : previous_(std::move(active_observer)), previous_quantize_(observe_quantized) {
  active_observer = std::move(observer);
  observe_quantized = quantize;
}
CalibrationScope::~CalibrationScope() {
  active_observer = std::move(previous_);
  observe_quantized = previous_quantize_;
}

void register_builtin_methods();  // methods.cpp

void register_quantization() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_builtin_methods();
    register_bn_fold_ops();
    exec::OpRegistry::instance().add(kFakeQuantOp, fake_quant_kernel);
  });
}

}  // namespace qforge::quant
