// qforge bench step: median time of one training step (forward, loss, backward, optimizer step)
// of a recipe's model at its batch size, on random inputs, after warm-up. (bench fakequant: its own file.)
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "commands.h"
#include "model_arg.h"
#include "qforge/exec/graph_module.h"
#include "qforge/train/optimizer.h"
#include "qforge/train/trainer.h"

namespace qforge::cli {

Command add_bench(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Measure speed.");
  bench->require_subcommand(1);
  auto* c = bench->add_subcommand("step", "Median training-step time of a recipe's model at its batch size.");
  struct Args {
    std::string model;
    std::vector<std::string> overrides;
    int steps = 20, warmup = 5;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  c->add_option("recipe", a->model, "recipe YAML (or zoo:NAME or a checkpoint)")->required();
  c->add_option("overrides", a->overrides, "recipe overrides key=value, e.g. train.batch_size=256");
  c->add_option("--steps", a->steps, "timed steps (default 20)")->check(CLI::PositiveNumber);
  c->add_option("--warmup", a->warmup, "untimed steps first (default 5)")->check(CLI::NonNegativeNumber);
  c->add_flag("--json", a->json, "print the result as one JSON object on stdout");
  Command fake_quant = add_bench_fake_quant(*bench);
  return [a, c, fake_quant] {
    if (!c->parsed()) return fake_quant();
    ModelArg m = resolve_model(a->model, a->overrides);
    const recipe::Recipe& r = m.recipe;
    int threads = train::configure_threads(r.train.threads);
    exec::GraphModule model(std::move(m.graph));
    model.train();
    auto opt = train::make_optimizer(r.train.optimizer, model);
    const int64_t bs = r.train.batch_size;
    torch::manual_seed(r.train.seed);
    at::Tensor x = at::randn({bs, r.model.in_channels, r.model.input_size[0], r.model.input_size[1]});
    at::Tensor y = at::randint(r.model.num_classes, {bs}, at::kLong);
    std::vector<double> ms;
    for (int i = 0; i < a->warmup + a->steps; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      opt->zero_grad();
      at::Tensor loss = at::cross_entropy_loss(model.forward(x), y, {}, at::Reduction::Mean, -100, r.train.label_smoothing);
      loss.backward();
      opt->step();
      double t = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (i >= a->warmup) ms.push_back(t);
    }
    std::sort(ms.begin(), ms.end());
    double median = ms[ms.size() / 2];
    nlohmann::json res = {{"model", model.structure().name}, {"batch_size", bs}, {"threads", threads},
                          {"steps", a->steps}, {"median_ms", median}, {"min_ms", ms.front()}, {"max_ms", ms.back()},
                          {"images_per_s", bs * 1000.0 / median}};
    if (a->json) std::printf("%s\n", res.dump().c_str());
    else
      std::printf("%s, batch %lld, %d threads: median step %.2f ms (min %.2f, max %.2f) = %.0f images/s\n",
                  model.structure().name.c_str(), (long long)bs, threads, median, ms.front(), ms.back(), bs * 1000.0 / median);
    return 0;
  };
}

}  // namespace qforge::cli
