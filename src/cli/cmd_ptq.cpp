#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "model_arg.h"
#include "qforge/compress/ptq.h"
#include "qforge/data/loader.h"
#include "qforge/exec/graph_module.h"
#include "qforge/quant/describe.h"
#include "qforge/train/checkpoint.h"
#include "qforge/train/data_setup.h"
#include "qforge/train/evaluate.h"
#include "qforge/train/model_source.h"
#include "qforge/train/trainer.h"

namespace qforge::cli {

Command add_ptq(CLI::App& app) {
  auto* c = app.add_subcommand("ptq",
                               "Post-training quantization: calibrate a float model on a few hundred training images "
                               "(no labels, no training) and write the quantized model.");
  struct Args {
    std::string model, data, root, out, calibrator = "minmax", input_calibrator = "minmax", weight_calibrator = "minmax", cle_relu6 = "clip";
    int64_t calib = 512;
    int weights = 8, activations = 8, histogram_bins = 2048, first_last_bits = 8, batch_size = 64, threads = 0, adaround_iterations = 1000;
    double percentile = 99.99, eval_subset = 0;
    std::vector<std::string> keep_float, calibrator_for;
    bool per_channel = false, quantize_adds = false, bias_correction = false, adaround = false, cle = false, no_fold_bn = false, no_eval = false, json = false, quiet = false;
  };
  auto a = std::make_shared<Args>();
  c->add_option("model", a->model,
                "the float model: a checkpoint or an ONNX file; or a recipe whose ptq: section gives the options and whose "
                "init: (or model.onnx) the model, with options given here overriding the section's")
      ->required();
  c->add_option("--data", a->data, "dataset name (default: the model's recipe's)");
  c->add_option("--root", a->root, "dataset folder (default: the dataset's default location)");
  c->add_option("--calib", a->calib, "calibration images: the first N of the training split (default 512)")->check(CLI::PositiveNumber);
  c->add_option("--weights", a->weights, "weight bits, 2..8 (default 8)")->check(CLI::Range(2, 8));
  c->add_option("--activations", a->activations, "activation bits, 2..16 (default 8)")->check(CLI::Range(2, 16));
  c->add_option("--calibrator", a->calibrator, "activation ranges: minmax | ema | percentile | mse | entropy (default minmax)")
      ->check(CLI::IsMember({"minmax", "ema", "percentile", "mse", "entropy"}));
  c->add_option("--input-calibrator", a->input_calibrator,
                "range of the network input (the image), which clipping would crop: the same names (default minmax)")
      ->check(CLI::IsMember({"minmax", "ema", "percentile", "mse", "entropy"}));
  c->add_option("--calibrator-for", a->calibrator_for,
                "QUANTIZER=NAME: another calibrator for one activation quantizer (its node, as qforge inspect lists it: "
                "layer1.0.conv1.aq=minmax); repeatable");
  c->add_option("--percentile", a->percentile, "percentile calibrator: the percentile kept, in (0, 100] (default 99.99)");
  c->add_option("--histogram-bins", a->histogram_bins,
                "bins of the percentile / mse / entropy histograms over [0, max |x|], 256..65536 (default 2048)")
      ->check(CLI::Range(256, 65536));
  c->add_option("--weight-calibrator", a->weight_calibrator, "weight ranges: minmax | mse (default minmax)")
      ->check(CLI::IsMember({"minmax", "mse"}));
  c->add_flag("--per-channel", a->per_channel, "one weight scale per output channel (default: one per tensor)");
  c->add_flag("--bias-correction", a->bias_correction, "correct each layer's bias for the mean shift weight quantization causes");
  c->add_flag("--adaround", a->adaround, "learn each weight's rounding direction layer by layer (AdaRound), for 2-4 bit weights");
  c->add_option("--adaround-iterations", a->adaround_iterations, "AdaRound optimization steps per layer (default 1000)")
      ->check(CLI::PositiveNumber);
  c->add_flag("--cle", a->cle,
              "cross-layer equalization after BatchNorm folding (Nagel et al. 2019): evens out per-channel weight ranges "
              "of consecutive layers, for per-tensor grids and depthwise networks");
  c->add_option("--cle-relu6", a->cle_relu6,
                "what --cle does with a ReLU6 between two layers: clip = ReLU then a per-channel clip scaled with the "
                "channel (exact), relu = ReLU as the paper does (changes the network where activations pass 6), keep = "
                "do not equalize across it (default clip)")
      ->check(CLI::IsMember({"clip", "relu", "keep"}));
  c->add_flag("--quantize-adds", a->quantize_adds,
              "quantize the inputs and output of residual Adds too, as PyTorch FX does: the deployed residual stream is "
              "integer (smaller, faster) instead of float");
  c->add_flag("--no-fold-bn", a->no_fold_bn, "keep BatchNorm nodes instead of folding them into the convolutions");
  c->add_option("--keep-float", a->keep_float, "layers left in float: node names, or first / last");
  c->add_option("--first-last-bits", a->first_last_bits,
                "width of the first and last layer when narrower widths are asked for; 0 = the same as the rest (default 8)")
      ->check(CLI::Range(0, 8));
  c->add_option("--batch-size", a->batch_size, "calibration batch size (default 64)")->check(CLI::PositiveNumber);
  c->add_option("--eval-subset", a->eval_subset, "test images for the before/after accuracy: N, a fraction, 0 = all (default 0)");
  c->add_flag("--no-eval", a->no_eval, "skip the before/after evaluation");
  c->add_option("--threads", a->threads, "CPU threads (default: all cores)");
  c->add_option("-o,--output", a->out, "the quantized model (a qforge checkpoint)")->required();
  c->add_flag("--json", a->json, "print the result as one JSON object on stdout");
  c->add_flag("-q,--quiet", a->quiet, "no progress output");
  return [a, c] {
    train::configure_threads(a->threads);
    const bool from_recipe = a->model.size() > 5 && (a->model.substr(a->model.size() - 5) == ".yaml" || a->model.substr(a->model.size() - 4) == ".yml");
    ModelArg m = resolve_model(a->model);
    recipe::Recipe r = m.recipe;
    int64_t calib = a->calib;
    int batch_size = a->batch_size;
    compress::PtqOptions o;
    if (from_recipe) {
      if (r.ptq.IsNull()) throw std::runtime_error(a->model + ": the recipe has no ptq: section");
      if (!r.init.empty()) m.graph = train::load_model_file(r.init);
      else if (r.model.onnx.empty())
        throw std::runtime_error(a->model + ": init: must name the float checkpoint to quantize (or model.onnx the ONNX file)");
      o = compress::parse_ptq_section(r.ptq, a->model + ": ptq", &calib, &batch_size);
    }
    // Options given on the command line win over the recipe's.
    auto given = [&](const char* flag) { return !from_recipe || c->count(flag) > 0; };
    if (given("--calib")) calib = a->calib;
    if (given("--batch-size")) batch_size = a->batch_size;
    if (given("--weights")) o.weight_bits = a->weights;
    if (given("--activations")) o.activation_bits = a->activations;
    if (given("--per-channel")) o.per_channel = a->per_channel;
    if (given("--calibrator")) o.calibrator.kind = quant::calibrator_from_name(a->calibrator);
    if (given("--percentile")) o.calibrator.percentile = a->percentile;
    if (given("--histogram-bins")) o.calibrator.bins = a->histogram_bins;
    if (given("--input-calibrator")) o.input_calibrator = quant::calibrator_from_name(a->input_calibrator);
    for (const std::string& kv : a->calibrator_for) {
      const size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) throw std::runtime_error("--calibrator-for " + kv + ": expected QUANTIZER=NAME, e.g. layer1.0.conv1.aq=minmax");
      try {
        o.calibrator_overrides[kv.substr(0, eq)] = quant::calibrator_from_name(kv.substr(eq + 1));
      } catch (const std::invalid_argument& e) {
        throw std::runtime_error("--calibrator-for " + kv + ": " + e.what());
      }
    }
    if (given("--weight-calibrator")) o.weight_calibrator = a->weight_calibrator;
    if (given("--no-fold-bn")) o.fold_batchnorm = !a->no_fold_bn;
    if (given("--cle")) o.cle = a->cle;
    if (given("--cle-relu6")) o.cle_options.relu6 = compress::relu6_handling_from_name(a->cle_relu6);
    if (c->count("--cle-relu6") && !o.cle) throw std::runtime_error("--cle-relu6 " + a->cle_relu6 + ": only applies with --cle");
    if (given("--bias-correction")) o.bias_correction = a->bias_correction;
    if (given("--adaround")) o.adaround = a->adaround;
    if (given("--adaround-iterations")) o.adaround_options.iterations = a->adaround_iterations;
    if (given("--keep-float")) o.keep_float = a->keep_float;
    if (given("--first-last-bits")) o.first_last_bits = a->first_last_bits;
    if (given("--quantize-adds")) o.quantize_adds = a->quantize_adds;
    o.quiet = a->quiet;

    if (!a->data.empty()) r.data.name = a->data, r.data.root = "";
    if (!a->root.empty()) r.data.root = a->root;
    r.data.subset = static_cast<double>(calib);
    r.data.test_subset = a->eval_subset;
    train::DataSplits d = train::load_splits(r.data, r.model, true);
    if (d.train.size() < calib)
      throw std::runtime_error("--calib " + std::to_string(calib) + ": the training split of " + r.data.name + " has only " +
                               std::to_string(d.train.size()) + " images");
    data::DataLoader calib_loader(d.train, train::loader_options(r.data, r.model, batch_size, false, 0));
    const int64_t float_bytes = quant::deployed_size_bytes(m.graph);
    // AdaRound's progress beside the output: a killed run, started again with the same arguments, resumes.
    if (o.adaround) o.adaround_options.progress_path = a->out + ".adaround";
    compress::PtqResult res = compress::run_ptq(m.graph, calib_loader, o);

    nlohmann::json out = res.to_json();
    out["model"] = a->model;
    out["output"] = a->out;
    out["dataset"] = r.data.name;
    out["calibrator"] = quant::calibrator_name(o.calibrator.kind);
    out["weight_calibrator"] = o.weight_calibrator;
    if (!o.calibrator_overrides.empty()) {
      nlohmann::json ov = nlohmann::json::object();
      for (const auto& [q, kind] : o.calibrator_overrides) ov[q] = quant::calibrator_name(kind);
      out["calibrator_overrides"] = ov;
    }
    out["weight_bits"] = o.weight_bits;
    out["activation_bits"] = o.activation_bits;
    out["per_channel"] = o.per_channel;
    out["adaround"] = o.adaround;
    out["bias_correction"] = o.bias_correction;
    out["cle"]["enabled"] = o.cle;  // beside the pass's own counts (to_json)
    out["float_size_bytes"] = float_bytes;
    out["quantized_size_bytes"] = quant::deployed_size_bytes(res.graph);
    exec::GraphModule quantized(res.graph);
    if (!a->no_eval) {
      const int64_t bs = r.train.eval_batch_size;
      data::DataLoader test(d.test, train::loader_options(r.data, r.model, bs, false, 0));
      exec::GraphModule before(m.graph);
      const train::EvalResult e0 = train::evaluate(before, test, a->quiet);
      const train::EvalResult e1 = train::evaluate(quantized, test, a->quiet);
      out["float"] = e0.to_json();
      out["quantized"] = e1.to_json();
    }
    recipe::Recipe saved = r;
    saved.quantize = compress::ptq_quantize_section(o);
    saved.ptq = YAML::Node();
    saved.data.subset = 0;
    saved.data.test_subset = 0;
    train::CheckpointMeta meta;
    meta.recipe_yaml = recipe::to_yaml(saved);
    if (out.contains("quantized")) meta.metrics = out["quantized"], meta.best_top1 = out["quantized"]["top1"].get<double>();
    train::save_checkpoint(a->out, quantized, nullptr, meta);
    if (o.adaround) {
      std::error_code ec;
      std::filesystem::remove(o.adaround_options.progress_path, ec);  // the output holds it all now
    }

    if (a->json) {
      std::printf("%s\n", out.dump().c_str());
      return 0;
    }
    std::printf("ptq: W%d A%d %s, %s calibrator, %lld calibration images, %.2f s\n", o.weight_bits, o.activation_bits,
                o.per_channel ? "per-channel" : "per-tensor", quant::calibrator_name(o.calibrator.kind),
                (long long)res.calibration_images, res.seconds);
    if (out.contains("quantized"))
      std::printf("top-1: float %.2f%%  quantized %.2f%%  (%+.2f)\n", out["float"]["top1"].get<double>(),
                  out["quantized"]["top1"].get<double>(),
                  out["quantized"]["top1"].get<double>() - out["float"]["top1"].get<double>());
    std::printf("size: float %.1f KiB  quantized %.1f KiB\nwrote %s\n", float_bytes / 1024.0,
                out["quantized_size_bytes"].get<int64_t>() / 1024.0, a->out.c_str());
    return 0;
  };
}

}  // namespace qforge::cli
