#include "qforge/exec/op_registry.h"

#include <stdexcept>

namespace qforge::exec {

OpRegistry& OpRegistry::instance() {
  static OpRegistry* reg = [] {
    auto* r = new OpRegistry();
    register_conv_ops(*r);
    register_linear_ops(*r);
    register_norm_ops(*r);
    register_activation_ops(*r);
    register_elementwise_ops(*r);
    register_pool_ops(*r);
    register_shape_ops(*r);
    register_quant_ops(*r);
    register_index_ops(*r);
    register_resize_ops(*r);
    return r;
  }();
  return *reg;
}

void OpRegistry::add(const std::string& op, OpKernel kernel) { kernels_[op] = std::move(kernel); }

const OpKernel* OpRegistry::find(const std::string& op) const {
  auto it = kernels_.find(op);
  return it == kernels_.end() ? nullptr : &it->second;
}

const OpKernel& OpRegistry::get(const ir::Node& node) const {
  if (const OpKernel* k = find(node.op)) return *k;
  std::string known;
  for (const auto& [name, k] : kernels_) known += (known.empty() ? "" : ", ") + name;
  throw std::runtime_error("node '" + node.name + "': unsupported op '" + node.op + "' (supported: " + known + ")");
}

std::vector<std::string> OpRegistry::ops() const {
  std::vector<std::string> out;
  for (const auto& [name, k] : kernels_) out.push_back(name);
  return out;
}

const at::Tensor& input(const ir::Node& n, const std::vector<at::Tensor>& in, size_t k) {
  static const at::Tensor undefined;
  if (k >= in.size()) return undefined;
  return in[k];
}

void op_error(const ir::Node& n, const std::string& what) {
  throw std::runtime_error("node '" + n.name + "' (" + n.op + "): " + what);
}

}  // namespace qforge::exec
