#include <cstdio>

#include "commands.h"
#include "model_arg.h"
#include "qforge/onnx/onnx_io.h"
#include "qforge/quant/qdq.h"

namespace qforge::cli {

Command add_export(CLI::App& app) {
  auto* c = app.add_subcommand("export", "Write a model in another format: float ONNX, or QDQ ONNX for a quantized model (opset 13).");
  struct Args {
    std::string model, format = "onnx", out;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  c->add_option("model", a->model, "a checkpoint, an ONNX file, a recipe YAML or zoo:NAME")->required();
  c->add_option("--format", a->format, "output format: onnx (float graph) | qdq (a quantized model as QuantizeLinear/DequantizeLinear pairs "
                 "with int8/uint8 weights, which ONNX Runtime runs); both opset 13")
      ->check(CLI::IsMember({"onnx", "qdq"}));
  c->add_option("-o,--output", a->out, "output file")->required();
  c->add_flag("--json", a->json, "print the result as one JSON object on stdout");
  return [a] {
    ModelArg m = resolve_model(a->model);
    if (a->format == "qdq") m.graph = quant::to_qdq(m.graph);
    onnx_io::export_onnx(m.graph, a->out);
    nlohmann::json res = {{"model", a->model}, {"format", a->format}, {"output", a->out}, {"nodes", m.graph.nodes.size()}};
    if (a->json) std::printf("%s\n", res.dump().c_str());
    else std::printf("wrote %s (%s, %zu nodes)\n", a->out.c_str(), a->format.c_str(), m.graph.nodes.size());
    return 0;
  };
}

}  // namespace qforge::cli
