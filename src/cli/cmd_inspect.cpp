#include <cstdio>

#include "commands.h"
#include "model_arg.h"
#include "qforge/ir/shape_inference.h"
#include "qforge/quant/describe.h"
#include "qforge_rt/qforge_rt.hpp"

namespace qforge::cli {

namespace {
// scale / zero point as one number or "min..max" over channels.
std::string brief(const nlohmann::json& v) {
  char buf[64];
  if (v.is_number()) std::snprintf(buf, sizeof buf, "%.4g", v.get<double>());
  else std::snprintf(buf, sizeof buf, "%.4g..%.4g", v["min"].get<double>(), v["max"].get<double>());
  return buf;
}

void print_quantizers(const nlohmann::json& qs) {
  std::printf("\n%-30s %-11s %-10s %4s %-11s %-8s %s\n", "quantizer", "role", "method", "bits", "granularity", "grid",
              "state");
  for (const auto& q : qs) {
    std::string state;
    if (q.contains("scale")) state += "scale " + brief(q["scale"]);
    if (q.contains("zero_point")) state += ", zero point " + brief(q["zero_point"]);
    if (q.contains("levels")) {
      state += state.empty() ? "levels" : ", levels";
      for (const auto& l : q["levels"]) state += " " + brief(l);
    }
    if (!q["initialized"].get<bool>()) state += " (not yet initialized)";
    std::printf("%-30s %-11s %-10s %4d %-11s %-8s %s\n", q["node"].get<std::string>().c_str(),
                q["role"].get<std::string>().c_str(), q["method"].get<std::string>().c_str(), q["bits"].get<int>(),
                q["granularity"].get<std::string>().c_str(), q["grid"].get<std::string>().c_str(), state.c_str());
  }
}
}  // namespace

Command add_inspect(CLI::App& app) {
  auto* c = app.add_subcommand("inspect", "Show a model's layers, shapes, parameters, MACs, size and quantizers.");
  struct Args {
    std::string model;
    std::vector<std::string> overrides;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  c->add_option("model", a->model, "a checkpoint, a recipe YAML (its model with fresh weights), zoo:NAME, or a packed .qfp "
                 "(qforge export --format packed: its per-layer bits and bytes)")->required();
  c->add_option("overrides", a->overrides, "recipe overrides for a recipe or zoo:NAME, e.g. model.in_channels=3 model.input_size=[32,32]");
  c->add_flag("--json", a->json, "print the result as one JSON object on stdout");
  return [a] {
    if (qforge_rt::is_packed(a->model)) {  // the integer runtime's file: what the runtime reports
      const std::string report = qforge_rt::inspect(a->model);
      if (a->json) {
        nlohmann::json lines = nlohmann::json::array();
        size_t at = 0;
        for (size_t nl; (nl = report.find('\n', at)) != std::string::npos; at = nl + 1) lines.push_back(report.substr(at, nl - at));
        std::printf("%s\n", nlohmann::json({{"file", a->model}, {"format", "packed"}, {"report", lines}}).dump().c_str());
      } else {
        std::fputs(report.c_str(), stdout);
      }
      return 0;
    }
    ModelArg m = resolve_model(a->model, a->overrides);
    std::vector<ir::LayerCost> costs = ir::layer_costs(m.graph, 1);
    int64_t params = m.graph.parameter_count(), macs = 0, bytes = 0;
    for (const auto& l : costs) macs += l.macs;
    for (const auto& [name, t] : m.graph.initializers) bytes += static_cast<int64_t>(t.bytes.size());
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : costs)
      layers.push_back({{"node", l.node}, {"op", l.op}, {"output_shape", l.out_shape}, {"params", l.params}, {"macs", l.macs}});
    const ir::ValueInfo& in = m.graph.inputs.at(0);
    nlohmann::json res = {{"model", m.graph.name}, {"input", in.shape}, {"nodes", m.graph.nodes.size()},
                          {"parameters", params}, {"macs", macs}, {"size_bytes", bytes}, {"layers", layers}};
    const nlohmann::json quantizers = quant::describe_quantizers(m.graph);
    if (!quantizers.empty()) res["quantizers"] = quantizers;
    if (a->json) {
      std::printf("%s\n", res.dump().c_str());
      return 0;
    }
    std::printf("%-36s %-20s %-18s %10s %14s\n", "node", "op", "output (N=1)", "params", "MACs");
    for (const auto& l : costs)
      std::printf("%-36s %-20s %-18s %10lld %14lld\n", l.node.c_str(), l.op.c_str(), ir::shape_str(l.out_shape).c_str(),
                  (long long)l.params, (long long)l.macs);
    std::printf("\n%s: input %s, %zu nodes, %lld parameters, %.2f MMACs per image, %.1f KiB of weights and buffers\n",
                m.graph.name.c_str(), ir::shape_str(in.shape).c_str(), m.graph.nodes.size(), (long long)params, macs / 1e6,
                bytes / 1024.0);
    if (!quantizers.empty()) print_quantizers(quantizers);
    return 0;
  };
}

}  // namespace qforge::cli
