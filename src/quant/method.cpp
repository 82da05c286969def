#include "qforge/quant/method.h"

#include <stdexcept>

namespace qforge::quant {

const char* role_name(Role r) { return r == Role::Weight ? "weights" : "activations"; }

GridSpec QuantMethod::grid(const QuantizerConfig&, Role, const std::vector<at::Tensor>&) const {
  throw std::runtime_error("method '" + name() + "' does not describe a deployable grid yet");
}

namespace {
std::map<std::string, std::shared_ptr<QuantMethod>>& methods() {
  static std::map<std::string, std::shared_ptr<QuantMethod>> m;
  return m;
}
}  // namespace

void register_method(std::shared_ptr<QuantMethod> m) { methods()[m->name()] = std::move(m); }

const QuantMethod& method(const std::string& name) {
  auto it = methods().find(name);
  if (it != methods().end()) return *it->second;
  std::string list;
  for (const auto& [n, m] : methods()) list += (list.empty() ? "" : ", ") + n;
  throw std::runtime_error("unknown quantization method '" + name + "'; known: " + list);
}

std::vector<std::string> method_names() {
  std::vector<std::string> out;
  for (const auto& [n, m] : methods()) out.push_back(n);
  return out;
}

}  // namespace qforge::quant
