#include "qforge/compress/ptq.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <stdexcept>

#include "bias_correction.h"
#include "qforge/data/loader.h"
#include "qforge/exec/graph_module.h"
#include "qforge/ir/passes.h"
#include "qforge/quant/config.h"
#include "qforge/quant/fake_quant_node.h"

namespace qforge::compress {

nlohmann::json PtqResult::to_json() const {
  nlohmann::json layers_json = nlohmann::json::array();
  for (const auto& l : layers)
    layers_json.push_back({{"layer", l.layer}, {"op", l.op}, {"weight_bits", l.weight_bits}, {"activation_bits", l.activation_bits}});
  return {{"layers", layers_json}, {"folded_batchnorms", folded_batchnorms},
          {"cle", {{"pairs", cle.pairs}, {"sweeps", cle.sweeps}, {"relu6", relu6_handling_name(cle.relu6)}, {"relu6_rewritten", cle.relu6_rewritten}}},
          {"calibration_images", calibration_images},
          {"ptq_seconds", seconds}};
}

namespace {
void check_options(const PtqOptions& o) {
  if (o.weight_bits < 2 || o.weight_bits > 8) throw std::runtime_error("weight bits must be 2..8, got " + std::to_string(o.weight_bits));
  if (o.activation_bits < 2 || o.activation_bits > 16)
    throw std::runtime_error("activation bits must be 2..16, got " + std::to_string(o.activation_bits));
  if (o.first_last_bits != 0 && (o.first_last_bits < 2 || o.first_last_bits > 8))
    throw std::runtime_error("first/last layer bits must be 0 or 2..8, got " + std::to_string(o.first_last_bits));
  if (o.weight_calibrator != "minmax" && o.weight_calibrator != "mse")
    throw std::runtime_error("weight calibrator \"" + o.weight_calibrator + "\" is not one of minmax, mse");
  if (!(o.calibrator.percentile > 0 && o.calibrator.percentile <= 100))
    throw std::runtime_error("percentile must be in (0, 100], got " + std::to_string(o.calibrator.percentile));
  if (o.calibrator.bins < 256 || o.calibrator.bins > 65536)
    throw std::runtime_error("histogram bins must be 256..65536, got " + std::to_string(o.calibrator.bins));
}

}  // namespace

PtqOptions parse_ptq_section(const YAML::Node& node, const std::string& key, int64_t* calib, int* batch_size) {
  PtqOptions o;
  if (!node.IsDefined() || node.IsNull()) return o;
  if (!node.IsMap()) throw std::runtime_error(key + ": expected a map such as {weights: 8, activations: 8}");
  const std::vector<std::string> known = {"weights", "activations", "per_channel", "calibrator", "input_calibrator", "calibrator_overrides",
                                          "percentile", "histogram_bins", "weight_calibrator", "bias_correction", "adaround",
                                          "adaround_iterations", "fold_batchnorm", "cle", "cle_relu6", "keep_float", "first_last_bits",
                                          "quantize_adds", "calib", "batch_size"};
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string k = it->first.as<std::string>();
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      std::string list;
      for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
      throw std::runtime_error(key + "." + k + ": unknown key (allowed: " + list + ")");
    }
  }
  auto get = [&](const char* k, auto& out) {
    if (!node[k]) return;
    try {
      out = node[k].as<std::decay_t<decltype(out)>>();
    } catch (const YAML::Exception&) {
      throw std::runtime_error(key + "." + k + ": wrong type (" + YAML::Dump(node[k]) + ")");
    }
  };
  auto calibrator = [&](const char* k, quant::Calibrator& out) {
    std::string name;
    get(k, name);
    if (name.empty()) return;
    try {
      out = quant::calibrator_from_name(name);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(key + "." + k + ": " + e.what());
    }
  };
  get("weights", o.weight_bits);
  get("activations", o.activation_bits);
  get("per_channel", o.per_channel);
  calibrator("calibrator", o.calibrator.kind);
  calibrator("input_calibrator", o.input_calibrator);
  if (const YAML::Node ov = node["calibrator_overrides"]) {
    if (!ov.IsMap()) throw std::runtime_error(key + ".calibrator_overrides: expected a map such as {layer1.0.conv1.aq: minmax}");
    for (auto it = ov.begin(); it != ov.end(); ++it) {
      const std::string q = it->first.as<std::string>();
      try {
        o.calibrator_overrides[q] = quant::calibrator_from_name(it->second.as<std::string>());
      } catch (const std::exception& e) {
        throw std::runtime_error(key + ".calibrator_overrides." + q + ": " + e.what());
      }
    }
  }
  get("percentile", o.calibrator.percentile);
  get("histogram_bins", o.calibrator.bins);
  get("weight_calibrator", o.weight_calibrator);
  get("bias_correction", o.bias_correction);
  get("adaround", o.adaround);
  get("adaround_iterations", o.adaround_options.iterations);
  get("fold_batchnorm", o.fold_batchnorm);
  get("cle", o.cle);
  if (node["cle_relu6"]) {
    if (!o.cle) throw std::runtime_error(key + ".cle_relu6: only applies with cle: true");
    std::string name;
    get("cle_relu6", name);
    try {
      o.cle_options.relu6 = relu6_handling_from_name(name);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(key + ".cle_relu6: " + e.what());
    }
  }
  get("keep_float", o.keep_float);
  get("first_last_bits", o.first_last_bits);
  get("quantize_adds", o.quantize_adds);
  if (calib) get("calib", *calib);
  if (batch_size) get("batch_size", *batch_size);
  try {
    check_options(o);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(key + ": " + e.what());
  }
  if (o.adaround_options.iterations < 1) throw std::runtime_error(key + ".adaround_iterations: must be >= 1");
  if (calib && *calib < 1) throw std::runtime_error(key + ".calib: must be >= 1");
  if (batch_size && *batch_size < 1) throw std::runtime_error(key + ".batch_size: must be >= 1");
  return o;
}

// Uniform quantizers whose ranges calibration fixes.
YAML::Node ptq_quantize_section(const PtqOptions& o) {
  YAML::Node q;
  q["weights"] = YAML::Load("{method: uniform, calibrated: 1}");
  q["weights"]["bits"] = o.weight_bits;
  q["weights"]["per_channel"] = o.per_channel;
  q["activations"] = YAML::Load("{method: uniform, calibrated: 1}");
  q["activations"]["bits"] = o.activation_bits;
  q["adds"] = o.quantize_adds;
  const bool narrow = o.weight_bits < 8 || o.activation_bits < 8;
  if (!o.keep_float.empty()) {
    q["keep_float"] = o.keep_float;
    q["first_last_bits"] = 0;
  } else if (narrow && o.first_last_bits > 0) {
    q["keep_float"] = std::vector<std::string>{"first", "last"};
    q["first_last_bits"] = o.first_last_bits;
  } else {
    q["keep_float"] = std::vector<std::string>{};
  }
  return q;
}

namespace {

// The tensors a FakeQuant node owns (its inputs between the quantized value and the flag).
std::vector<at::Tensor> quantizer_params(const exec::GraphModule& m, const ir::Node& n) {
  std::vector<at::Tensor> p;
  for (size_t i = 1; i + 1 < n.inputs.size(); ++i) p.push_back(m.state().at(n.inputs[i]));
  return p;
}

void mark_initialized(exec::GraphModule& m, const ir::Node& n) { m.state().at(n.inputs.back()).fill_(1.f); }

// Runs the float network (quantizers pass through) over the calibration set, feeding each
// activation quantizer's input to `observe`.
int64_t calibration_pass(exec::GraphModule& m, data::DataLoader& loader, const std::string& what, bool quiet,
                         const std::function<void(const ir::Node&, const at::Tensor&)>& observe) {
  at::NoGradGuard g;
  quant::CalibrationScope scope([&](const ir::Node& n, const at::Tensor& x) {
    if (quant::role_of(n) != quant::Role::Activation) return;
    try {
      observe(n, x);
    } catch (const std::exception& e) {
      throw std::runtime_error("calibration: quantizer '" + n.name + "': " + e.what());
    }
  });
  loader.start_epoch(0);
  data::Batch b;
  int64_t images = 0, batch = 0;
  const int64_t total = loader.num_batches();
  while (loader.next(b)) {
    m.forward(b.images);
    images += b.images.size(0);
    if (!quiet) std::fprintf(stderr, "\rptq: %s: batch %lld/%lld", what.c_str(), (long long)++batch, (long long)total);
  }
  if (!quiet) std::fprintf(stderr, "\n");
  return images;
}
// Quantizers derive scale and zero point from their range when they run: one batch through the
// network writes them, so the saved graph holds them (export reads them from there).
void refresh_scales(exec::GraphModule& m, data::DataLoader& loader) {
  at::NoGradGuard g;
  loader.start_epoch(0);
  data::Batch b;
  if (loader.next(b)) m.forward(b.images);
  loader.start_epoch(0);
}
}  // namespace

PtqResult run_ptq(ir::Graph g, data::DataLoader& calibration, const PtqOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  check_options(o);
  for (const auto& n : g.nodes)
    if (n.op == quant::kFakeQuantOp)
      throw std::runtime_error("the model is already quantized (node '" + n.name + "' is a quantizer); PTQ needs a float model");
  quant::register_quantization();
  PtqResult r;
  if (o.fold_batchnorm) r.folded_batchnorms = ir::fold_batchnorm(g);
  if (o.cle) {
    r.cle = cross_layer_equalize(g, o.cle_options);
    if (!o.quiet)
      std::fprintf(stderr, "ptq: cross-layer equalization: %d layer pairs, %d sweeps, %d ReLU6 rewritten (%s)\n", r.cle.pairs,
                   r.cle.sweeps, r.cle.relu6_rewritten,
                   o.cle_options.relu6 == Relu6Handling::ChannelClip ? "ReLU + per-channel clip" : "ReLU");
  }
  r.layers = quant::insert_fake_quant(g, quant::parse_quantize(ptq_quantize_section(o)));
  if (!o.quiet) {
    int n = 0;
    for (const auto& l : r.layers) n += !l.weight_quantizer.empty() || !l.activation_quantizer.empty();
    std::fprintf(stderr, "ptq: folded %d BatchNorm nodes, quantizing %d layers (W%d A%d, %s calibrator)\n", r.folded_batchnorms,
                 n, o.weight_bits, o.activation_bits, quant::calibrator_name(o.calibrator.kind));
  }
  exec::GraphModule m(g);
  m.eval();

  // Activations: pass 1 for ranges (and channel means), pass 2 for histograms when needed.
  std::map<std::string, quant::RangeStats> stats;
  std::map<std::string, const ir::Node*> quantizers;
  for (const auto& n : m.structure().nodes)
    if (n.op == quant::kFakeQuantOp) quantizers[n.name] = &n;
  // Histograms when any range needs one: the calibrator, the input's, or an override's.
  bool histograms = quant::needs_histogram(o.calibrator.kind) || quant::needs_histogram(o.input_calibrator);
  for (const auto& [q, kind] : o.calibrator_overrides) {
    const auto it = quantizers.find(q);
    if (it == quantizers.end() || quant::role_of(*it->second) != quant::Role::Activation) {
      std::string example;
      for (const auto& [name, node] : quantizers)
        if (example.empty() && quant::role_of(*node) == quant::Role::Activation) example = name;
      throw std::runtime_error("calibrator_overrides: '" + q + "' is not an activation quantizer of this model (they are named like '" +
                               example + "'; qforge inspect lists them)");
    }
    histograms |= quant::needs_histogram(kind);
  }
  r.calibration_images = calibration_pass(m, calibration, "calibrating ranges", o.quiet, [&](const ir::Node& n, const at::Tensor& x) {
    auto it = stats.find(n.name);
    if (it == stats.end()) it = stats.emplace(n.name, quant::RangeStats(quant::config_from_node(n).is_signed, o.calibrator.bins, o.calibrator.ema_factor)).first;
    it->second.observe(x);
  });
  if (r.calibration_images == 0) throw std::runtime_error("the calibration set is empty");
  if (histograms)
    calibration_pass(m, calibration, "histograms", o.quiet,
                     [&](const ir::Node& n, const at::Tensor& x) { stats.at(n.name).observe_histogram(x); });

  at::NoGradGuard no_grad;
  for (const auto& [name, node] : quantizers) {
    const quant::QuantizerConfig c = quant::config_from_node(*node);
    std::vector<at::Tensor> p = quantizer_params(m, *node);  // scale, zero_point, running_min, running_max
    if (quant::role_of(*node) == quant::Role::Activation) {
      auto it = stats.find(name);
      if (it == stats.end()) throw std::runtime_error("calibration: quantizer '" + name + "' saw no data");
      quant::CalibratorOptions co = o.calibrator;
      for (const auto& in : m.structure().inputs)
        if (in.name == node->inputs[0]) co.kind = o.input_calibrator;
      if (auto ov = o.calibrator_overrides.find(name); ov != o.calibrator_overrides.end()) co.kind = ov->second;
      const double t = it->second.threshold(co, c.bits);
      p.at(2).fill_(c.is_signed ? -t : 0.0);
      p.at(3).fill_(t);
    } else {
      const at::Tensor& w = m.state().at(node->inputs[0]);
      at::Tensor t = quant::weight_thresholds(w, c.bits, c.per_channel, o.weight_calibrator);
      p.at(2).copy_(-t.view(p.at(2).sizes()));
      p.at(3).copy_(t.view(p.at(3).sizes()));
    }
    mark_initialized(m, *node);
  }
  refresh_scales(m, calibration);
  if (o.adaround) {
    AdaRoundOptions ao = o.adaround_options;
    ao.quiet = ao.quiet || o.quiet;
    adaround(m, calibration, ao);
  }
  if (o.bias_correction) {
    const int corrected = correct_biases(m, stats);
    if (!o.quiet) std::fprintf(stderr, "ptq: bias correction adjusted %d layers\n", corrected);
  }
  refresh_scales(m, calibration);
  r.graph = m.to_graph();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace qforge::compress
