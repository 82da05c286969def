#include "bias_correction.h"

#include <ATen/ATen.h>

#include <stdexcept>

#include "qforge/exec/graph_module.h"
#include "qforge/quant/fake_quant_node.h"

namespace qforge::compress {

namespace {
const ir::Node* quantizer_of(const ir::Graph& g, const std::string& value, quant::Role role) {
  const ir::Node* p = g.producer(value);
  return p && p->op == quant::kFakeQuantOp && quant::role_of(*p) == role ? p : nullptr;
}

// The weight as its quantizer delivers it (eval mode: fixed, calibrated range).
at::Tensor quantized_weight(const exec::GraphModule& m, const ir::Node& q) {
  const quant::QuantizerConfig c = quant::config_from_node(q);
  std::vector<at::Tensor> p;
  for (size_t i = 1; i + 1 < q.inputs.size(); ++i) p.push_back(m.state().at(q.inputs[i]));
  return quant::method(c.method).forward(m.state().at(q.inputs[0]), c, quant::Role::Weight, p, false);
}
}  // namespace

int correct_biases(exec::GraphModule& m, const std::map<std::string, quant::RangeStats>& input_stats) {
  at::NoGradGuard no_grad;
  const ir::Graph& g = m.structure();
  int corrected = 0;
  for (const auto& n : g.nodes) {
    if ((n.op != "Conv" && n.op != "Gemm") || n.inputs.size() < 3 || n.inputs[2].empty()) continue;
    const ir::Node* aq = quantizer_of(g, n.inputs[0], quant::Role::Activation);
    const ir::Node* wq = quantizer_of(g, n.inputs[1], quant::Role::Weight);
    if (!aq || !wq || !m.state().count(n.inputs[2]) || !m.state().count(wq->inputs[0])) continue;
    auto it = input_stats.find(aq->name);
    if (it == input_stats.end()) continue;
    const std::vector<double> mean_v = it->second.channel_means();
    const at::Tensor& w = m.state().at(wq->inputs[0]);
    at::Tensor dw = (quantized_weight(m, *wq) - w).to(at::kDouble);
    at::Tensor mean = at::tensor(mean_v, at::kDouble);
    at::Tensor shift;
    if (n.op == "Conv") {
      const int64_t groups = n.attrs.i("group", 1);
      const int64_t cout = dw.size(0), cin_g = dw.size(1);
      if (mean.numel() != cin_g * groups) throw std::runtime_error("bias correction: layer '" + n.name + "': input channels do not match its weight");
      // Output channel c reads input channels of its group: (c / (cout/groups)) * cin_g + j.
      at::Tensor per_in = dw.flatten(2).sum(2);                                   // [cout, cin_g]
      at::Tensor group_mean = mean.view({groups, 1, cin_g}).expand({groups, cout / groups, cin_g}).reshape({cout, cin_g});
      shift = (per_in * group_mean).sum(1);
    } else {
      const bool trans_b = n.attrs.i("transB", 0) != 0;
      at::Tensor wt = trans_b ? dw : dw.t();  // [N, K]
      if (mean.numel() != wt.size(1)) throw std::runtime_error("bias correction: layer '" + n.name + "': input features do not match its weight");
      shift = wt.matmul(mean);
    }
    const at::Tensor& b = m.state().at(n.inputs[2]);
    if (b.numel() != shift.numel()) continue;  // a broadcast bias: leave it
    b.sub_(shift.to(b.scalar_type()).view(b.sizes()));
    ++corrected;
  }
  return corrected;
}

}  // namespace qforge::compress
