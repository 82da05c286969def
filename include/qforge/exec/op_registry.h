// Op kernels by ONNX op name. Each op family lives in its own src/exec/ops_*.cpp and registers
// itself from register_builtin_ops(); an unknown op is an error naming the op and the node.
#pragma once
#include <ATen/ATen.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "qforge/ir/graph.h"

namespace qforge::exec {

struct OpContext {
  bool training = false;
};

using OpKernel = std::function<std::vector<at::Tensor>(const ir::Node&, const std::vector<at::Tensor>&, OpContext&)>;

class OpRegistry {
 public:
  static OpRegistry& instance();  // holds the built-in ops
  void add(const std::string& op, OpKernel kernel);
  const OpKernel* find(const std::string& op) const;
  const OpKernel& get(const ir::Node& node) const;  // throws naming node and op
  std::vector<std::string> ops() const;

 private:
  std::map<std::string, OpKernel> kernels_;
};

// One per op family (src/exec/ops_*.cpp).
void register_conv_ops(OpRegistry&);
void register_linear_ops(OpRegistry&);
void register_norm_ops(OpRegistry&);
void register_activation_ops(OpRegistry&);
void register_elementwise_ops(OpRegistry&);
void register_pool_ops(OpRegistry&);
void register_shape_ops(OpRegistry&);
void register_quant_ops(OpRegistry&);
void register_index_ops(OpRegistry&);   // Shape, Gather, Slice, Split, Squeeze, Unsqueeze, Expand, Cast, ...
void register_resize_ops(OpRegistry&);

// Helpers for kernels: input k or an undefined tensor when omitted; error naming the node.
const at::Tensor& input(const ir::Node& n, const std::vector<at::Tensor>& in, size_t k);
[[noreturn]] void op_error(const ir::Node& n, const std::string& what);

}  // namespace qforge::exec
