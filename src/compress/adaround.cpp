#include "qforge/compress/adaround.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/optim/adam.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "../quant/grid.h"
#include "qforge/data/loader.h"
#include "qforge/exec/graph_module.h"
#include "qforge/quant/fake_quant_node.h"
#include "qforge/train/checkpoint.h"

namespace qforge::compress {

namespace {
constexpr double kZeta = 1.1, kGamma = -0.1;

const ir::Node* quantizer_of(const ir::Graph& g, const std::string& value, quant::Role role) {
  const ir::Node* p = g.producer(value);
  return p && p->op == quant::kFakeQuantOp && quant::role_of(*p) == role ? p : nullptr;
}

// Thrown by layer_inputs' observer once it has the layer's input: the rest of the network need not run.
struct LayerInputSeen {};

// Every input the layer's activation quantizer sees over the calibration set: its float input (quantized =
// false: every quantizer passes through) or its output when every quantizer quantizes (quantized = true).
// Each forward stops at that quantizer (a no-throw type, not a std::exception, so nothing on the way wraps it).
at::Tensor layer_inputs(exec::GraphModule& m, data::DataLoader& loader, const std::string& quantizer, bool quantized) {
  at::NoGradGuard g;
  std::vector<at::Tensor> xs;
  quant::CalibrationScope scope(
      [&](const ir::Node& n, const at::Tensor& x) {
        if (n.name != quantizer) return;
        xs.push_back(x.detach().clone());
        throw LayerInputSeen{};
      },
      quantized);
  loader.start_epoch(0);
  data::Batch b;
  while (loader.next(b)) {
    try {
      m.forward(b.images);
    } catch (const LayerInputSeen&) {
    }
  }
  loader.start_epoch(0);
  return at::cat(xs);
}

at::Tensor rectified_sigmoid(const at::Tensor& v) { return (at::sigmoid(v) * (kZeta - kGamma) + kGamma).clamp(0, 1); }

// What must match for a progress file to continue this run: the layers, their grids (the calibrated scales,
// stored beside it) and every option that changes the result.
std::string run_fingerprint(const std::vector<const ir::Node*>& layers, const AdaRoundOptions& o, int64_t calibration_batches) {
  std::ostringstream f;
  f.precision(17);
  f << "adaround-progress-1 iterations=" << o.iterations << " batch=" << o.batch_size << " lr=" << o.lr << " reg=" << o.reg
    << " warmup=" << o.warmup << " beta=" << o.beta_start << "," << o.beta_end << " seed=" << o.seed << " batches=" << calibration_batches
    << " layers=";
  for (const ir::Node* n : layers) f << n->name << ",";
  return f.str();
}

at::Tensor rng_state() {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}
void set_rng_state(const at::Tensor& s) {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(s);
}

// Writes the first rounded.size() layers' weights, every layer's grid scales and the generator's state to
// path (through path.tmp and a rename, so a kill never leaves half a file).
void save_progress(const std::string& path, const std::string& fingerprint, const std::vector<at::Tensor>& scales,
                   const std::vector<at::Tensor>& rounded) {
  torch::serialize::OutputArchive a;
  a.write("fingerprint", c10::IValue(fingerprint));
  a.write("done", at::tensor(static_cast<int64_t>(rounded.size())), true);
  for (size_t k = 0; k < scales.size(); ++k) a.write("scale/" + std::to_string(k), scales[k], true);
  for (size_t k = 0; k < rounded.size(); ++k) a.write("w/" + std::to_string(k), rounded[k], true);
  a.write("rng", rng_state(), true);
  train::save_archive_atomically(a, path, "the AdaRound progress file");
}

// The rounded weights a progress file at path holds for this run (restoring the generator's state), or none
// when there is no file or it belongs to another run (reported).
std::vector<at::Tensor> load_progress(const std::string& path, const std::string& fingerprint, const std::vector<at::Tensor>& scales,
                                      const std::vector<at::Tensor>& weights, bool quiet) {
  if (path.empty() || !std::filesystem::exists(path)) return {};
  auto ignored = [&](const std::string& why) {
    std::fprintf(stderr, "adaround: ignoring %s: %s; starting over\n", path.c_str(), why.c_str());
    return std::vector<at::Tensor>{};
  };
  try {
    torch::serialize::InputArchive a;
    a.load_from(path);
    c10::IValue f;
    a.read("fingerprint", f);
    if (!f.isString() || f.toStringRef() != fingerprint) return ignored("it is the progress of another run (model, calibration or options differ)");
    at::Tensor done_t, rng;
    a.read("done", done_t);
    const int64_t done = done_t.item<int64_t>();
    if (done < 0 || done > static_cast<int64_t>(weights.size())) return ignored("its layer count is out of range");
    for (size_t k = 0; k < scales.size(); ++k) {
      at::Tensor s;
      a.read("scale/" + std::to_string(k), s);
      if (!s.sizes().equals(scales[k].sizes()) || !at::equal(s, scales[k])) return ignored("its weight or input grids differ from this run's");
    }
    std::vector<at::Tensor> rounded;
    for (int64_t k = 0; k < done; ++k) {
      at::Tensor w;
      a.read("w/" + std::to_string(k), w);
      if (!w.sizes().equals(weights[static_cast<size_t>(k)].sizes()) || w.scalar_type() != weights[static_cast<size_t>(k)].scalar_type())
        return ignored("layer " + std::to_string(k) + "'s weights do not match");
      rounded.push_back(w);
    }
    a.read("rng", rng);
    set_rng_state(rng);
    if (!quiet) std::fprintf(stderr, "adaround: resuming from %s after %lld of %zu layers\n", path.c_str(), static_cast<long long>(done), weights.size());
    return rounded;
  } catch (const c10::Error& e) {
    return ignored(std::string("not a readable progress file (") + e.what_without_backtrace() + ")");
  }
}
}  // namespace

int adaround(exec::GraphModule& m, data::DataLoader& calibration, const AdaRoundOptions& o) {
  at::AutoGradMode grad_on(true);  // callers may hold a no-grad guard; V needs gradients
  const ir::Graph& g = m.structure();
  std::vector<const ir::Node*> layers;
  for (const auto& n : g.nodes)
    if ((n.op == "Conv" || n.op == "Gemm") && quantizer_of(g, n.inputs.at(1), quant::Role::Weight) &&
        quantizer_of(g, n.inputs.at(0), quant::Role::Activation) && m.state().count(quantizer_of(g, n.inputs[1], quant::Role::Weight)->inputs[0]))
      layers.push_back(&n);
  at::manual_seed(o.seed);
  exec::OpContext ctx;
  // Each layer's weight in the module's state (handles: writing into one writes the state), and a float
  // copy of each: the reconstruction target comes from the float network.
  std::vector<at::Tensor> weights, float_w, rounded_w;
  for (const ir::Node* n : layers) {
    weights.push_back(m.state().at(quantizer_of(g, n->inputs[1], quant::Role::Weight)->inputs[0]));
    float_w.push_back(weights.back().detach().clone());
  }
  auto set_weights = [&](const std::vector<at::Tensor>& from) {  // the first from.size() layers
    at::NoGradGuard ng;
    for (size_t k = 0; k < from.size(); ++k) weights[k].copy_(from[k]);
  };
  // Each layer's weight and input grids (their scales): the weights' come from the model, the inputs' from the
  // calibration data, so together they tell this run's model and calibration from another's.
  std::vector<at::Tensor> scales;
  for (const ir::Node* n : layers)
    for (const ir::Node* q : {quantizer_of(g, n->inputs[1], quant::Role::Weight), quantizer_of(g, n->inputs[0], quant::Role::Activation)})
      scales.push_back(m.state().at(q->inputs.at(1)).detach().clone());
  const std::string fingerprint = run_fingerprint(layers, o, calibration.num_batches());
  rounded_w = load_progress(o.progress_path, fingerprint, scales, weights, o.quiet);
  set_weights(rounded_w);
  int this_call = 0;
  for (size_t li = rounded_w.size(); li < layers.size(); ++li) {
    if (o.max_layers >= 0 && this_call >= o.max_layers) break;
    const ir::Node* n = layers[li];
    const ir::Node* wq = quantizer_of(g, n->inputs[1], quant::Role::Weight);
    const ir::Node* aq = quantizer_of(g, n->inputs[0], quant::Role::Activation);
    const quant::QuantizerConfig c = quant::config_from_node(*wq);
    if (c.method != "uniform") throw std::runtime_error("adaround: layer '" + n->name + "': needs the uniform weight quantizer PTQ inserts");
    const quant::IntRange q = quant::int_range(c.bits, c.is_signed);
    const at::Tensor& w = m.state().at(wq->inputs[0]);
    const at::Tensor scale = m.state().at(wq->inputs[1]).detach();
    std::vector<int64_t> bshape(w.dim(), 1);
    if (scale.numel() > 1) bshape[0] = scale.numel();
    const at::Tensor s = scale.view(bshape);
    const at::Tensor bias = n->inputs.size() > 2 && !n->inputs[2].empty() ? m.state().at(n->inputs[2]).detach() : at::Tensor();
    // The paper's asymmetric reconstruction: the target is the float network's output of this layer, the
    // learned rounding sees what the quantized network feeds it (the layers before rounded, activations
    // quantized), so it also absorbs their error; and the activation after the layer is inside the loss,
    // so errors on outputs it zeroes or clips do not count.
    set_weights(float_w);
    const at::Tensor x_float = layer_inputs(m, calibration, aq->name, false);
    set_weights(rounded_w);  // the layers done so far; the rest still hold their float weights
    const at::Tensor x_all = layer_inputs(m, calibration, aq->name, true);
    const int64_t count = x_all.size(0);
    // f_a: the activation that alone reads the layer's output, run by its own kernels: a Relu or Clip
    // (ReLU6), and a per-channel clip (Min) that cross-layer equalization may have put after the Relu.
    // Their other inputs (bounds) must be constants.
    struct ActStep {
      const ir::Node* node;
      std::vector<at::Tensor> in;  // in[0] is filled per call
    };
    std::vector<ActStep> f_a;
    for (std::string v = n->outputs.at(0);;) {
      const std::vector<const ir::Node*> next = g.consumers(v);
      if (next.size() != 1 || g.is_output(v)) break;
      const ir::Node* a = next[0];
      if (!(a->op == "Relu" || a->op == "Clip" || (a->op == "Min" && !f_a.empty())) || a->inputs.at(0) != v) break;
      ActStep step{a, std::vector<at::Tensor>(1)};
      bool constant = true;
      for (size_t k = 1; k < a->inputs.size(); ++k) {
        if (a->inputs[k].empty()) step.in.emplace_back();
        else if (m.state().count(a->inputs[k])) step.in.push_back(m.state().at(a->inputs[k]));
        else constant = false;
      }
      if (!constant) break;
      f_a.push_back(std::move(step));
      v = a->outputs.at(0);
    }
    auto act = [&](at::Tensor y) {
      for (const ActStep& a : f_a) {
        std::vector<at::Tensor> in = a.in;
        in[0] = y;
        y = exec::OpRegistry::instance().get(*a.node)(*a.node, in, ctx).at(0);
      }
      return y;
    };
    const exec::OpKernel& op = exec::OpRegistry::instance().get(*n);
    auto layer = [&](const at::Tensor& x, const at::Tensor& weight) {
      std::vector<at::Tensor> in{x, weight};
      if (bias.defined()) in.push_back(bias);
      return op(*n, in, ctx).at(0);
    };

    const at::Tensor w0 = w.detach().clone();
    const at::Tensor base = at::floor(w0 / s);
    const at::Tensor rest = (w0 / s - base).clamp(0.01, 0.99);
    at::Tensor v = (-at::log((kZeta - kGamma) / (rest - kGamma) - 1)).requires_grad_(true);
    torch::optim::Adam opt({v}, torch::optim::AdamOptions(o.lr));
    // The target of every calibration input, once: it depends on neither V nor the iteration.
    at::Tensor target_all;
    {
      at::NoGradGuard ng;
      target_all = act(layer(x_float, w0));
    }
    auto error_with = [&](const at::Tensor& weight) {  // mean squared output error on (up to) 256 inputs
      at::NoGradGuard ng;
      const int64_t k = std::min<int64_t>(count, 256);
      return (act(layer(x_all.slice(0, 0, k), weight)) - target_all.slice(0, 0, k)).pow(2).mean().item<double>();
    };
    const double nearest = error_with((w0 / s).round().clamp(q.qmin, q.qmax) * s);
    const int warm = static_cast<int>(o.warmup * o.iterations);
    for (int it = 0; it < o.iterations; ++it) {
      at::Tensor idx = at::randperm(count, at::kLong).slice(0, 0, std::min(o.batch_size, count));
      at::Tensor x = x_all.index_select(0, idx);
      const at::Tensor target = target_all.index_select(0, idx);
      at::Tensor h = rectified_sigmoid(v);
      at::Tensor wt = (base + h).clamp(q.qmin, q.qmax) * s;
      at::Tensor loss = (act(layer(x, wt)) - target).pow(2).flatten(1).sum(1).mean();
      if (it >= warm) {
        const double rel = static_cast<double>(it - warm) / std::max(1, o.iterations - warm);
        const double beta = o.beta_end + (o.beta_start - o.beta_end) * (1 - rel);
        loss = loss + o.reg * (1 - (2 * h - 1).abs().pow(beta)).sum();
      }
      opt.zero_grad();
      loss.backward();
      opt.step();
    }
    at::Tensor rounded;
    {
      at::NoGradGuard ng;
      // h < 0.5 down, > 0.5 up; h = 0.5 exactly (a weight half-way between two codes that nothing moved, such
      // as a channel's negative extreme at -t, code -(2^(b-1) - 0.5)) goes to the even code, as nearest rounding.
      rounded = at::round(base + rectified_sigmoid(v)).clamp(q.qmin, q.qmax) * s;
      w.copy_(rounded);
    }
    rounded_w.push_back(rounded);
    ++this_call;
    if (!o.progress_path.empty()) save_progress(o.progress_path, fingerprint, scales, rounded_w);
    if (!o.quiet)
      std::fprintf(stderr, "adaround: %s (%zu/%zu): output MSE with nearest rounding %.3g, learned rounding %.3g\n", n->name.c_str(),
                   rounded_w.size(), layers.size(), nearest, error_with(rounded));
  }
  return static_cast<int>(rounded_w.size());
}

}  // namespace qforge::compress
