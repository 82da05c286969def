// `qforge run`: the integer runtime (runtime/, library qforge_rt) on a QDQ ONNX or packed file; the
// deployment path, as an application linking only qforge_rt would run it (no libtorch inside).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "commands.h"
#include "qforge/data/npy.h"
#include "qforge_rt/qforge_rt.hpp"

namespace qforge::cli {

Command add_run(CLI::App& app) {
  auto* c = app.add_subcommand("run", "Run a QDQ ONNX or packed model with the integer runtime (qforge_rt) on a float32 .npy batch.");
  struct Args {
    std::string model, input, output;
    int bench = 0, threads = 0;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  c->add_option("model", a->model, "a QDQ ONNX file (qforge export --format qdq) or a packed file")->required()->check(CLI::ExistingFile);
  c->add_option("--input", a->input, "input batch (.npy, float32)")->required()->check(CLI::ExistingFile);
  c->add_option("--output", a->output, "where to write the first output (.npy)");
  c->add_option("--bench", a->bench, "time N runs after 3 warm-ups; print median and min milliseconds")->check(CLI::NonNegativeNumber);
  c->add_option("--threads", a->threads, "runtime threads (default: every core; env QFORGE_RT_THREADS)")->check(CLI::NonNegativeNumber);
  c->add_flag("--json", a->json, "print the result as one JSON object on stdout");
  return [a] {
    if (a->threads > 0) setenv("QFORGE_RT_THREADS", std::to_string(a->threads).c_str(), 1);
    at::Tensor xt = data::read_npy(a->input).to(at::kFloat).contiguous();
    const std::vector<int64_t> shape = xt.sizes().vec();
    const std::vector<float> x(xt.data_ptr<float>(), xt.data_ptr<float>() + xt.numel());
    qforge_rt::Model model(a->model);
    std::vector<int64_t> out_shape;
    std::vector<float> y = model.run(x, shape, out_shape);
    nlohmann::json res = {{"model", a->model}, {"input_shape", shape}, {"output_shape", out_shape}};
    if (!a->output.empty()) {
      data::write_npy(a->output, at::from_blob(y.data(), out_shape, at::kFloat).clone());
      res["output"] = a->output;
    }
    if (a->bench > 0) {
      for (int i = 0; i < 3; ++i) model.run(x, shape, out_shape);
      std::vector<double> ms;
      for (int i = 0; i < a->bench; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        model.run(x, shape, out_shape);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
      std::sort(ms.begin(), ms.end());
      res["median_ms"] = ms[ms.size() / 2];
      res["min_ms"] = ms.front();
      res["runs"] = a->bench;
    }
    if (a->json) {
      std::printf("%s\n", res.dump().c_str());
      return 0;
    }
    std::printf("%s: output %s", a->model.c_str(), nlohmann::json(out_shape).dump().c_str());
    if (res.contains("median_ms")) std::printf(", median %.3f ms, min %.3f ms over %d runs", res["median_ms"].get<double>(), res["min_ms"].get<double>(), a->bench);
    std::printf("\n");
    return 0;
  };
}

}  // namespace qforge::cli
