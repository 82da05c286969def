#include <cstdio>

#include "commands.h"
#include "model_arg.h"
#include "qforge/data/npy.h"
#include "qforge/exec/graph_module.h"
#include "qforge/train/trainer.h"

namespace qforge::cli {

Command add_infer(CLI::App& app) {
  auto* c = app.add_subcommand("infer", "Run a model on a float32 .npy batch and write its output as .npy.");
  struct Args {
    std::string model, input, output;
    int threads = 0;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  c->add_option("model", a->model, "a checkpoint or an ONNX file")->required();
  c->add_option("--input", a->input, "input batch (.npy, float32, the model's input shape)")->required()->check(CLI::ExistingFile);
  c->add_option("--output", a->output, "where to write the output (.npy)")->required();
  c->add_option("--threads", a->threads, "CPU threads (default: all cores)");
  c->add_flag("--json", a->json, "print the result as one JSON object on stdout");
  return [a] {
    train::configure_threads(a->threads);
    ModelArg m = resolve_model(a->model);
    at::Tensor x = data::read_npy(a->input).to(at::kFloat);
    exec::GraphModule model(std::move(m.graph));
    model.eval();
    at::NoGradGuard g;
    at::Tensor y = model.forward(x);
    data::write_npy(a->output, y.contiguous());
    nlohmann::json res = {{"model", a->model}, {"input_shape", x.sizes().vec()}, {"output_shape", y.sizes().vec()},
                          {"output", a->output}};
    if (a->json) std::printf("%s\n", res.dump().c_str());
    else std::printf("%s -> %s: output %s\n", a->input.c_str(), a->output.c_str(), c10::str(y.sizes()).c_str());
    return 0;
  };
}

}  // namespace qforge::cli
