#include "qforge/train/trainer.h"

#include <torch/optim/optimizer.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "qforge/exec/graph_module.h"
#include "qforge/train/checkpoint.h"
#include "qforge/train/data_setup.h"
#include "qforge/train/evaluate.h"
#include "qforge/train/model_source.h"
#include "qforge/train/optimizer.h"
#include "qforge/train/progress.h"

namespace fs = std::filesystem;

namespace qforge::train {

int configure_threads(int threads) {
  int n = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(n);
  return n;
}

namespace {
void append_line(const std::string& path, const std::string& line) {
  std::ofstream f(path, std::ios::app);
  f << line << "\n";
  if (!f) throw TrainError(path + ": cannot append metrics");
}

void write_text_atomic(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    f << text;
    if (!f) throw TrainError(tmp + ": cannot write");
  }
  fs::rename(tmp, path);
}

char stats_buf[128];
const char* stats(double loss, double acc) {
  std::snprintf(stats_buf, sizeof stats_buf, "loss %.4f acc %.2f%%", loss, acc);
  return stats_buf;
}
}  // namespace

nlohmann::json run_training(const recipe::Recipe& r, const TrainOptions& opt, const TrainHooks& hooks) {
  if (opt.out_dir.empty()) throw TrainError("no output directory given");
  const recipe::TrainConfig& tc = r.train;
  if (tc.device != "cpu") {
    torch::Device dev(tc.device);  // validates the string
    throw TrainError("train.device: '" + tc.device + "' is not available in this build (CPU only)");
  }
  if (!r.quantize.IsNull() && !hooks.prepare)
    throw TrainError("quantize: this recipe needs the quantization pipeline (qforge train runs it)");
  const int threads = configure_threads(tc.threads);
  fs::create_directories(opt.out_dir);
  const std::string last_path = opt.out_dir + "/last.ckpt", best_path = opt.out_dir + "/best.ckpt";
  const std::string metrics_path = opt.out_dir + "/metrics.jsonl";

  // The model: resumed, initialized from a checkpoint, or fresh from the zoo.
  CheckpointMeta meta;
  meta.recipe_yaml = recipe::to_yaml(r);
  ir::Graph graph;
  bool resuming = false;
  if (fs::exists(last_path)) {
    if (!opt.resume)
      throw TrainError(opt.out_dir + " already holds a run (last.ckpt); pass --resume to continue it or choose another --out");
    Checkpoint c = load_checkpoint(last_path);
    graph = std::move(c.graph);
    meta.epoch = c.meta.epoch;
    meta.step = c.meta.step;
    meta.best_top1 = c.meta.best_top1;
    meta.metrics = c.meta.metrics;
    resuming = true;
    if (c.meta.recipe_yaml != meta.recipe_yaml) {
      // The checkpoint's graph already holds its run's model and quantizers: continuing it under another
      // model, init or quantize section would silently train something other than what the recipe says.
      recipe::Recipe same = recipe::parse_recipe(c.meta.recipe_yaml, {}, last_path);
      same.data = r.data;
      same.train = r.train;
      same.ptq = r.ptq;
      if (same != r)
        throw TrainError("--resume: " + last_path + " was trained with a different model, init or quantize section than the recipe given now; "
                         "resume with the same recipe, or start this one in another --out");
      std::fprintf(stderr, "warning: %s was written with different data or train settings; continuing with the ones given now\n",
                   last_path.c_str());
    }
  } else {
    if (!opt.resume) std::remove(metrics_path.c_str());
    graph = build_graph(r.model, tc.seed);
  }
  if (!resuming) {
    if (!r.init.empty()) {
      exec::GraphModule fresh(std::move(graph));
      exec::GraphModule src(load_checkpoint(r.init).graph);
      try {
        fresh.load_state(src.state());
      } catch (const std::exception& e) {
        throw TrainError("init: " + r.init + " does not fit the recipe's model: " + e.what());
      }
      graph = fresh.to_graph();
    }
    if (hooks.prepare) graph = hooks.prepare(std::move(graph));
  }
  std::set<std::string> own = hooks.own_group ? hooks.own_group(graph) : std::set<std::string>{};
  exec::GraphModule model(std::move(graph));
  write_text_atomic(opt.out_dir + "/recipe.yaml", meta.recipe_yaml);

  DataSplits splits = load_splits(r.data, r.model, tc.epochs > 0);
  data::DataLoader test_loader(splits.test, loader_options(r.data, r.model, tc.eval_batch_size, false, tc.seed));
  auto optimizer = make_optimizer(tc.optimizer, model, own, hooks.own_lr);
  const std::vector<double> base_lrs = group_learning_rates(*optimizer);
  if (resuming) load_optimizer_state(last_path, *optimizer);

  const int64_t params = model.structure().parameter_count();
  if (!opt.quiet)
    std::fprintf(stderr, "%s: %lld parameters, %lld training / %lld test images, %d threads%s\n",
                 model.structure().name.c_str(), (long long)params, (long long)splits.train.size(),
                 (long long)splits.test.size(), threads,
                 resuming ? (", resuming after epoch " + std::to_string(meta.epoch)).c_str() : "");

  EvalResult last_eval;
  bool have_eval = false;
  double train_seconds = 0;
  if (tc.epochs > meta.epoch) {
    data::DataLoader train_loader(splits.train, loader_options(r.data, r.model, tc.batch_size, true, tc.seed));
    const int64_t steps_per_epoch = train_loader.num_batches();
    if (steps_per_epoch == 0) throw TrainError("data: the training set has fewer images than one batch");
    for (int64_t epoch = meta.epoch; epoch < tc.epochs; ++epoch) {
      torch::manual_seed(tc.seed * 1000003 + static_cast<uint64_t>(epoch));  // dropout etc., reproducible on resume
      if (hooks.on_epoch_start) hooks.on_epoch_start(model, epoch);
      model.train();
      train_loader.start_epoch(epoch);
      Progress progress("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(tc.epochs), steps_per_epoch,
                        tc.log_every, opt.quiet);
      double loss_sum = 0;
      int64_t correct = 0, seen = 0, step_in_epoch = 0;
      double lr = 0;
      data::Batch b;
      while (train_loader.next(b)) {
        lr = learning_rate(tc.schedule, tc.optimizer.lr, meta.step, steps_per_epoch, tc.epochs);
        scale_learning_rate(*optimizer, base_lrs, lr / tc.optimizer.lr);
        optimizer->zero_grad();
        at::Tensor logits = model.forward(b.images);
        at::Tensor loss = at::cross_entropy_loss(logits, b.labels, {}, at::Reduction::Mean, -100, tc.label_smoothing);
        const double lv = loss.item<double>();
        if (!std::isfinite(lv)) {
          throw TrainError("loss is " + std::string(std::isnan(lv) ? "NaN" : "infinite") + " at step " +
                           std::to_string(meta.step + 1) + " (epoch " + std::to_string(epoch + 1) + ", batch " +
                           std::to_string(step_in_epoch + 1) + ", lr " + std::to_string(lr) + "); last good checkpoint: " +
                           (fs::exists(last_path) ? last_path + " (epoch " + std::to_string(meta.epoch) + ")" : "none written yet") +
                           ". Lower train.optimizer.lr or check the data.");
        }
        loss.backward();
        optimizer->step();
        ++meta.step;
        ++step_in_epoch;
        const int64_t n = b.labels.size(0);
        loss_sum += lv * n;
        seen += n;
        correct += count_topk(logits.detach(), b.labels, 1);
        progress.update(step_in_epoch, seen, stats(loss_sum / seen, 100.0 * correct / seen));
      }
      const double epoch_seconds = progress.elapsed_s();
      train_seconds += epoch_seconds;
      progress.finish(stats(loss_sum / std::max<int64_t>(1, seen), 100.0 * correct / std::max<int64_t>(1, seen)));
      meta.epoch = epoch + 1;

      nlohmann::json line = {{"epoch", meta.epoch}, {"step", meta.step}, {"lr", lr},
                             {"train_loss", loss_sum / std::max<int64_t>(1, seen)},
                             {"train_top1", 100.0 * correct / std::max<int64_t>(1, seen)},
                             {"train_seconds", epoch_seconds}, {"images_per_s", seen / std::max(1e-9, epoch_seconds)}};
      const bool last_epoch = meta.epoch == tc.epochs;
      if (last_epoch || (tc.eval_every > 0 && meta.epoch % tc.eval_every == 0)) {
        last_eval = evaluate(model, test_loader, opt.quiet);
        have_eval = true;
        line["test_loss"] = last_eval.loss;
        line["test_top1"] = last_eval.top1;
        line["test_top5"] = last_eval.top5;
        meta.metrics = line;
        if (!opt.quiet)
          std::fprintf(stderr, "epoch %lld: test top-1 %.2f%%, top-5 %.2f%%, loss %.4f\n", (long long)meta.epoch,
                       last_eval.top1, last_eval.top5, last_eval.loss);
        if (last_eval.top1 > meta.best_top1) {
          meta.best_top1 = last_eval.top1;
          save_checkpoint(best_path, model, nullptr, meta);
        }
      }
      if (last_epoch || (tc.checkpoint_every > 0 && meta.epoch % tc.checkpoint_every == 0))
        save_checkpoint(last_path, model, optimizer.get(), meta);
      append_line(metrics_path, line.dump());
    }
  }
  if (!have_eval) {  // nothing trained (epochs reached already, or epochs: 0): report the model as it is
    last_eval = evaluate(model, test_loader, opt.quiet);
    if (!fs::exists(last_path)) save_checkpoint(last_path, model, optimizer.get(), meta);
  }
  return {{"model", model.structure().name}, {"parameters", params}, {"epochs", meta.epoch}, {"steps", meta.step},
          {"test_top1", last_eval.top1}, {"test_top5", last_eval.top5}, {"test_loss", last_eval.loss},
          {"best_top1", std::max(meta.best_top1, last_eval.top1)}, {"train_seconds", train_seconds},
          {"last_checkpoint", last_path}, {"best_checkpoint", fs::exists(best_path) ? best_path : last_path},
          {"out_dir", opt.out_dir}};
}

}  // namespace qforge::train
