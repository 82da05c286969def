#include <cstdio>

#include "commands.h"
#include "qforge/data/loader.h"
#include "qforge/exec/graph_module.h"
#include "qforge/recipe/recipe.h"
#include "qforge/train/checkpoint.h"
#include "qforge/train/data_setup.h"
#include "qforge/train/evaluate.h"
#include "qforge/train/trainer.h"

namespace qforge::cli {

Command add_eval(CLI::App& app) {
  auto* c = app.add_subcommand("eval", "Evaluate a model (a qforge checkpoint) on a dataset's test split.");
  struct Args {
    std::string model, data, root;
    double subset = 0;
    int batch_size = 0, threads = 0;
    bool json = false, quiet = false;
  };
  auto a = std::make_shared<Args>();
  c->add_option("model", a->model, "model file: a checkpoint written by qforge train")->required()->check(CLI::ExistingFile);
  c->add_option("--data", a->data, "dataset name (default: the one the model was trained on)");
  c->add_option("--root", a->root, "dataset folder (default: the dataset's default location)");
  c->add_option("--subset", a->subset, "test images used: N = the first N, 0 < x < 1 = that fraction, 0 = all");
  c->add_option("--batch-size", a->batch_size, "evaluation batch size (default: the recipe's eval_batch_size)");
  c->add_option("--threads", a->threads, "CPU threads (default: all cores)");
  c->add_flag("--json", a->json, "print the result as one JSON object on stdout");
  c->add_flag("-q,--quiet", a->quiet, "no progress output");
  return [a] {
    train::configure_threads(a->threads);
    train::Checkpoint ck = train::load_checkpoint(a->model);
    recipe::Recipe r = recipe::parse_recipe(ck.meta.recipe_yaml, {}, a->model + " (recipe)");
    if (!a->data.empty()) {
      r.data.name = a->data;
      r.data.root = "";
    }
    if (!a->root.empty()) r.data.root = a->root;
    r.data.test_subset = a->subset;
    if (a->batch_size > 0) r.train.eval_batch_size = a->batch_size;
    train::DataSplits d = train::load_splits(r.data, r.model, false);
    data::DataLoader loader(d.test, train::loader_options(r.data, r.model, r.train.eval_batch_size, false, 0));
    exec::GraphModule m(std::move(ck.graph));
    train::EvalResult e = train::evaluate(m, loader, a->quiet);
    nlohmann::json res = e.to_json();
    res["model"] = a->model;
    res["dataset"] = r.data.name;
    if (a->json) std::printf("%s\n", res.dump().c_str());
    else
      std::printf("%s on %s (%lld images): top-1 %.2f%%  top-5 %.2f%%  loss %.4f  (%.1f s)\n", a->model.c_str(),
                  r.data.name.c_str(), (long long)e.count, e.top1, e.top5, e.loss, e.seconds);
    return 0;
  };
}

}  // namespace qforge::cli
