#include <cstdio>
#include <filesystem>
#include <unistd.h>

#include "commands.h"
#include "model_arg.h"
#include "qforge/onnx/onnx_io.h"
#include "qforge/quant/qdq.h"
#include "qforge_rt/qforge_rt.hpp"

namespace qforge::cli {

Command add_export(CLI::App& app) {
  auto* c = app.add_subcommand("export", "Write a model in another format: float ONNX, QDQ ONNX for a quantized model (opset 13), or the integer "
                                "runtime's packed file.");
  struct Args {
    std::string model, format = "onnx", out;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  c->add_option("model", a->model, "a checkpoint, an ONNX file, a recipe YAML or zoo:NAME")->required();
  c->add_option("--format", a->format, "output format: onnx (float graph) | qdq (a quantized model as QuantizeLinear/DequantizeLinear pairs "
                 "with int8/uint8 weights, which ONNX Runtime runs); both opset 13 | packed (the QDQ graph packed for "
                 "qforge run: weights at their real width, int8/4/2/ternary/binary, codebook indices with their levels for lqnet / hwgq; "
                 "runtime/README.md)")
      ->check(CLI::IsMember({"onnx", "qdq", "packed"}));
  c->add_option("-o,--output", a->out, "output file")->required();
  c->add_flag("--json", a->json, "print the result as one JSON object on stdout");
  return [a] {
    ModelArg m = resolve_model(a->model);
    // The packed file may hold codebooks (lqnet, hwgq levels): the runtime runs them, ONNX Runtime could not.
    if (a->format != "onnx") m.graph = quant::to_qdq(m.graph, {/*codebooks=*/a->format == "packed"});
    if (a->format == "packed") {
      // The runtime packs from the QDQ file (it infers each layer's real width from the integers).
      const std::string qdq = a->out + ".qdq." + std::to_string(getpid()) + ".onnx";
      onnx_io::export_onnx(m.graph, qdq);
      try {
        qforge_rt::pack(qdq, a->out);
      } catch (...) {
        std::filesystem::remove(qdq);
        throw;
      }
      std::filesystem::remove(qdq);
    } else {
      onnx_io::export_onnx(m.graph, a->out);
    }
    nlohmann::json res = {{"model", a->model}, {"format", a->format}, {"output", a->out}, {"nodes", m.graph.nodes.size()}};
    if (a->json) std::printf("%s\n", res.dump().c_str());
    else std::printf("wrote %s (%s, %zu nodes)\n", a->out.c_str(), a->format.c_str(), m.graph.nodes.size());
    return 0;
  };
}

}  // namespace qforge::cli
