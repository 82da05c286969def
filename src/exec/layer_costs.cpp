#include "qforge/exec/layer_costs.h"

#include "qforge/exec/graph_module.h"
#include "qforge/exec/tensor_convert.h"

namespace qforge::exec {

std::vector<LayerCost> layer_costs(const ir::Graph& g) {
  GraphModule m(g);
  m.eval();
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> inputs;
  for (const ir::ValueInfo& v : g.inputs) {
    std::vector<int64_t> shape = v.shape;
    for (int64_t& d : shape)
      if (d < 0) d = 1;
    inputs.push_back(at::zeros(shape, at::TensorOptions().dtype(to_scalar_type(v.dtype))));
  }
  std::vector<LayerCost> out;
  const auto& state = m.state();
  m.forward_observed(inputs, [&](const ir::Node& n, const std::vector<at::Tensor>& in, const std::vector<at::Tensor>& outs) {
    LayerCost c{n.name, n.op, outs.empty() ? std::vector<int64_t>{} : outs[0].sizes().vec(), 0, 0};
    for (const std::string& v : n.inputs)
      if (g.is_initializer(v) && !g.buffers.count(v)) c.params += state.at(v).numel();
    if (n.op == "Conv" && in.size() > 1) {
      const at::Tensor& w = in[1];  // [Cout, Cin/group, k...]: each output element costs Cin/group*k*k MACs
      c.macs = outs[0].numel() * (w.numel() / w.size(0));
    } else if (n.op == "Gemm" && in.size() > 1) {
      c.macs = outs[0].numel() * (n.attrs.i("transA", 0) ? in[0].size(0) : in[0].size(1));
    } else if (n.op == "MatMul" && in.size() > 1) {
      c.macs = outs[0].numel() * in[0].size(-1);
    }
    out.push_back(std::move(c));
  });
  return out;
}

}  // namespace qforge::exec
