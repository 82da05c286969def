#include <cstdio>

#include "commands.h"
#include "qforge/recipe/recipe.h"
#include "qforge/compress/qat.h"
#include "qforge/train/trainer.h"

namespace qforge::cli {

Command add_train(CLI::App& app) {
  auto* c = app.add_subcommand("train", "Train (or fine-tune) the model a recipe describes.");
  struct Args {
    std::string recipe, out;
    std::vector<std::string> overrides;
    bool resume = false, json = false, quiet = false;
  };
  auto a = std::make_shared<Args>();
  c->add_option("recipe", a->recipe, "recipe YAML file (see recipes/)")->required()->check(CLI::ExistingFile);
  c->add_option("overrides", a->overrides, "recipe overrides key=value, e.g. train.epochs=3 train.optimizer.lr=0.05");
  c->add_option("-o,--out", a->out, "output directory for checkpoints and logs (default runs/<recipe name>)");
  c->add_flag("--resume", a->resume, "continue the run in --out from its last checkpoint");
  c->add_flag("--json", a->json, "print the result as one JSON object on stdout");
  c->add_flag("-q,--quiet", a->quiet, "no progress output");
  return [a] {
    recipe::Recipe r = recipe::load_recipe(a->recipe, a->overrides);
    std::string out = a->out;
    if (out.empty()) {
      std::string stem = a->recipe.substr(a->recipe.find_last_of('/') + 1);
      out = "runs/" + stem.substr(0, stem.find_last_of('.'));
    }
    nlohmann::json res = compress::run_recipe(r, {out, a->resume, a->quiet});
    if (a->json) {
      std::printf("%s\n", res.dump().c_str());
    } else {
      std::printf("model        %s (%lld parameters)\n", res["model"].get<std::string>().c_str(),
                  (long long)res["parameters"].get<int64_t>());
      std::printf("epochs       %lld (%lld steps, %.1f s training)\n", (long long)res["epochs"].get<int64_t>(),
                  (long long)res["steps"].get<int64_t>(), res["train_seconds"].get<double>());
      std::printf("test top-1   %.2f%%  (best %.2f%%)\n", res["test_top1"].get<double>(), res["best_top1"].get<double>());
      std::printf("test top-5   %.2f%%\n", res["test_top5"].get<double>());
      std::printf("checkpoints  %s, %s\n", res["last_checkpoint"].get<std::string>().c_str(),
                  res["best_checkpoint"].get<std::string>().c_str());
    }
    return 0;
  };
}

}  // namespace qforge::cli
