#include "qforge/compress/qat.h"

#include <cstdio>

#include "qforge/exec/graph_module.h"
#include "qforge/quant/bn_fold.h"
#include "qforge/quant/config.h"
#include "qforge/quant/fake_quant_node.h"
#include "qforge/quant/insert.h"

namespace qforge::compress {

namespace {
std::set<std::string> quantizer_parameters(const ir::Graph& g) {
  std::set<std::string> out;
  for (const ir::Node& n : g.nodes)
    if (n.op == quant::kFakeQuantOp)
      for (size_t i = 1; i < n.inputs.size(); ++i)
        if (g.is_initializer(n.inputs[i]) && !g.buffers.count(n.inputs[i])) out.insert(n.inputs[i]);
  return out;
}
}  // namespace

nlohmann::json run_qat(const recipe::Recipe& r, const train::TrainOptions& opt) {
  quant::register_quantization();
  const quant::QuantizeConfig cfg = quant::parse_quantize(r.quantize);
  auto layers = std::make_shared<nlohmann::json>(nlohmann::json::array());
  train::TrainHooks h;
  h.prepare = [cfg, layers, quiet = opt.quiet](ir::Graph g) {
    if (cfg.fold_bn) {
      int n = quant::fold_batchnorm_for_qat(g);
      if (!quiet) std::fprintf(stderr, "fold_bn: %d BatchNorm layers folded into their convolutions' weights for QAT\n", n);
    }
    for (const quant::QuantizedLayer& l : quant::insert_fake_quant(g, cfg)) {
      layers->push_back({{"layer", l.layer}, {"weight_bits", l.weight_bits}, {"activation_bits", l.activation_bits}});
      if (!quiet)
        std::fprintf(stderr, "quantize %-28s W%-2s A%s\n", l.layer.c_str(),
                     l.weight_bits ? std::to_string(l.weight_bits).c_str() : "fp",
                     l.activation_bits ? std::to_string(l.activation_bits).c_str() : "fp");
    }
    return g;
  };
  h.own_group = quantizer_parameters;
  h.own_lr = cfg.lr;
  if (cfg.freeze_bn_after >= 0)
    h.on_epoch_start = [after = cfg.freeze_bn_after, quiet = opt.quiet](exec::GraphModule& m, int64_t epoch) {
      if (epoch >= after) {
        int n = m.freeze_batchnorm();
        if (n && !quiet) std::fprintf(stderr, "froze %d BatchNorm layers' statistics at epoch %lld\n", n, (long long)epoch + 1);
      }
    };
  nlohmann::json res = train::run_training(r, opt, h);
  if (!layers->empty()) res["quantized_layers"] = *layers;
  return res;
}

nlohmann::json run_recipe(const recipe::Recipe& r, const train::TrainOptions& opt) {
  if (r.quantize.IsNull()) return train::run_training(r, opt);
  return run_qat(r, opt);
}

}  // namespace qforge::compress
