#include "qforge/quant/qdq.h"

#include <ATen/ATen.h>

#include <cmath>
#include <stdexcept>

#include "qforge/exec/tensor_convert.h"
#include "qforge/ir/passes.h"
#include "qforge/quant/bn_fold.h"
#include "qforge/quant/fake_quant_node.h"

namespace qforge::quant {

namespace {
[[noreturn]] void fail(const ir::Node& n, const QuantizerConfig& c, const std::string& what) {
  throw std::runtime_error("QDQ export: quantizer '" + n.name + "' (" + c.method + ", " + std::to_string(c.bits) +
                           " bits): " + what);
}

// The integer type that holds [qmin, qmax]: uint8 for unsigned grids, int8 for signed ones.
at::ScalarType storage_type(const ir::Node& n, const QuantizerConfig& c, const GridSpec& s) {
  if (s.qmin >= 0 && s.qmax <= 255) return at::kByte;
  if (s.qmin >= -128 && s.qmax <= 127) return at::kChar;
  fail(n, c, "the integer range [" + std::to_string(s.qmin) + ", " + std::to_string(s.qmax) +
                 "] does not fit 8 bits; QDQ (opset 13) holds int8/uint8 only");
}

struct Qparams {
  at::Tensor scale;       // float32, [1] per tensor or [C] per channel
  at::Tensor zero_point;  // storage type, same shape
  at::ScalarType type;
};

Qparams qparams(const ir::Node& n, const QuantizerConfig& c, const GridSpec& s) {
  if (s.kind != GridSpec::Uniform)
    fail(n, c,
         std::string("its grid is ") + (s.kind == GridSpec::Codebook ? "a codebook" : "powers of two spanning more than 2^6") +
             ", which int8 QuantizeLinear/DequantizeLinear cannot express. Quantize with a uniform-grid method (uniform, lsq, "
             "lsq_plus, pact, dorefa, sawb, qil; bwn / xnor / twn weights; pow2 weights at up to 4 bits) for QDQ, or export "
             "--format packed (the integer runtime's file keeps codebooks as index bits plus levels)");
  Qparams q;
  q.type = storage_type(n, c, s);
  q.scale = s.scale.detach().to(at::kFloat).flatten().contiguous();
  if (!(q.scale.gt(0).all().item<bool>()) || !at::isfinite(q.scale).all().item<bool>())
    fail(n, c, "its scale must be positive and finite");
  at::Tensor zp = s.zero_point.defined() ? s.zero_point.detach().to(at::kDouble).flatten() : at::zeros_like(q.scale, at::kDouble);
  if (zp.numel() == 1 && q.scale.numel() > 1) zp = zp.expand({q.scale.numel()}).contiguous();
  at::Tensor zr = zp.round();
  if ((zp - zr).abs().max().item<double>() > 1e-3)
    fail(n, c, "its zero point is not an integer (" + std::to_string(zp.flatten()[0].item<double>()) +
                   "); QDQ needs integer zero points");
  if (zr.lt(s.qmin).any().item<bool>() || zr.gt(s.qmax).any().item<bool>()) fail(n, c, "its zero point lies outside its integer range");
  q.zero_point = zr.to(q.type);
  return q;
}

std::vector<at::Tensor> state_of(const ir::Graph& g, const ir::Node& n, const QuantizerConfig& c) {
  std::vector<at::Tensor> p;
  for (size_t i = 1; i < n.inputs.size(); ++i) {
    auto it = g.initializers.find(n.inputs[i]);
    if (it == g.initializers.end()) fail(n, c, "its state '" + n.inputs[i] + "' is not in the model");
    p.push_back(exec::to_aten(it->second));
  }
  if (p.empty() || p.back().item<float>() == 0.f)
    fail(n, c, "it never saw data (calibrate with `qforge ptq` or train first)");
  p.pop_back();  // the 'initialized' flag
  return p;
}

ir::Node make_node(const std::string& name, const std::string& op, std::vector<std::string> in, std::vector<std::string> out) {
  ir::Node n;
  n.name = name;
  n.op = op;
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  return n;
}

// Binary {-a, +a} and ternary {-a, 0, +a} weight codebooks (bwn, xnor, twn) are the integer grid
// [-1, 1] with scale a: DequantizeLinear expresses them exactly (binary never uses 0), and the
// runtime packs them at 1 or 2 bits from the integers it reads.
GridSpec signed_levels_as_grid(const GridSpec& s) {
  if (s.kind != GridSpec::Codebook || !s.levels.defined()) return s;
  const at::Tensor l = s.levels.detach().to(at::kDouble);
  const int64_t n = l.size(-1);
  if (n != 2 && n != 3) return s;
  const at::Tensor a = l.select(-1, n - 1);
  if (!a.gt(0).all().item<bool>() || !at::allclose(l.select(-1, 0), -a)) return s;
  if (n == 3 && !l.select(-1, 1).eq(0).all().item<bool>()) return s;
  GridSpec u;
  u.kind = GridSpec::Uniform;
  u.qmin = -1;
  u.qmax = 1;
  u.axis = s.axis;
  u.scale = a.to(at::kFloat);
  u.zero_point = at::zeros_like(u.scale);
  return u;
}

// Power-of-two weights {0, +-2^n2, ..., +-2^n1} (pow2) are the integers {0, +-1, +-2, ..., +-2^(n1-n2)}
// with scale 2^n2: exact in int8 while n1 - n2 <= 6, which is pow2 at up to 4 bits (4 exponents, |q| <= 8).
// The runtime stores such integers as 4-bit sign + exponent codes.
GridSpec pow2_as_grid(const GridSpec& s) {
  if (s.kind != GridSpec::PowerOfTwo) return s;
  const int64_t exponents = s.qmax - s.qmin + 1;
  if (exponents > 7) return s;
  GridSpec u;
  u.kind = GridSpec::Uniform;
  u.qmax = int64_t{1} << (exponents - 1);
  u.qmin = -u.qmax;
  u.axis = s.axis;
  u.scale = s.scale.detach().to(at::kFloat) * std::ldexp(1.0, static_cast<int>(s.qmin));
  u.zero_point = at::zeros_like(u.scale);
  return u;
}

// Codebook form (QdqOptions::codebooks): the levels (float32, [C, L] per channel or [L]) and, for
// weights, the uint8 index of each evaluated weight in its row of levels.
bool has_codebook(const GridSpec& s) { return s.kind != GridSpec::Uniform && s.levels.defined() && s.levels.size(-1) <= 256; }

at::Tensor codebook_indices(const ir::Node& n, const QuantizerConfig& c, std::vector<at::Tensor>& p, const at::Tensor& w,
                            const GridSpec& s) {
  const at::Tensor wq = method(c.method).forward(w, c, Role::Weight, p, false).detach().to(at::kFloat);
  const at::Tensor lv = s.levels.to(at::kFloat);
  const int64_t rows = lv.dim() == 2 ? lv.size(0) : 1;
  if (lv.dim() == 2 && (s.axis != 0 || w.size(0) != rows)) fail(n, c, "its per-channel codebook does not run along the weight's first axis");
  const at::Tensor l2 = lv.reshape({rows, -1}).contiguous(), w2 = wq.reshape({rows, -1}).contiguous();
  const at::Tensor mid = (0.5 * (l2.slice(1, 0, -1) + l2.slice(1, 1))).contiguous();
  const at::Tensor idx = at::searchsorted(mid, w2);
  const double off = (l2.gather(1, idx) - w2).abs().max().item<double>();
  if (!(off <= 1e-6 * std::max(1.0, l2.abs().max().item<double>())))
    fail(n, c, "its quantized weights are not levels of the codebook it reports (off by " + std::to_string(off) + ")");
  return idx.to(at::kByte).reshape(w.sizes());
}

// Integer weights: what the quantizer delivers in evaluation, divided back onto its grid.
at::Tensor integer_weights(const ir::Node& n, const QuantizerConfig& c, std::vector<at::Tensor>& p, const at::Tensor& w,
                           const GridSpec& s, const Qparams& q) {
  at::Tensor wq = method(c.method).forward(w, c, Role::Weight, p, false).detach().to(at::kDouble);
  std::vector<int64_t> bshape(w.dim(), 1);
  if (q.scale.numel() > 1) {
    if (s.axis != 0 || w.size(0) != q.scale.numel()) fail(n, c, "its per-channel scales do not run along the weight's first axis");
    bshape[0] = q.scale.numel();
  }
  at::Tensor sc = q.scale.to(at::kDouble).view(bshape), zp = q.zero_point.to(at::kDouble).view(bshape);
  at::Tensor ints = (wq / sc).round() + zp;
  at::Tensor back = (ints - zp) * sc;
  const double off = ((back - wq).abs() / sc).max().item<double>();
  if (off > 1e-3)
    fail(n, c, "its quantized weights are not on the grid it reports (off by " + std::to_string(off) + " steps)");
  return ints.clamp(s.qmin, s.qmax).to(q.type);
}
// CodebookDequantize(index, levels) for weights; CodebookQuantize(x, thresholds) -> CodebookDequantize
// for activations (qforge's ai.qforge domain; only qforge's runtime runs them).
void add_codebook_nodes(const ir::Graph& g, const ir::Node& n, const QuantizerConfig& c, Role r, std::vector<at::Tensor>& p,
                        const GridSpec& s, ir::Graph& out) {
  const std::string levels = n.name + ".codebook_levels";
  out.initializers[levels] = exec::to_ir(s.levels.detach().to(at::kFloat).contiguous());
  out.buffers.insert(levels);
  const std::string& x = n.inputs.at(0);
  auto w = g.initializers.find(x);
  const bool weight = r == Role::Weight && w != g.initializers.end();
  std::string index = n.name + ".codebook_index";
  if (weight) {
    out.initializers[index] = exec::to_ir(codebook_indices(n, c, p, exec::to_aten(w->second), s));
    out.buffers.insert(index);
  } else {
    if (s.levels.dim() != 1) fail(n, c, "per-channel activation codebooks have no exported form");
    if (!s.thresholds.defined() || s.thresholds.numel() != s.levels.numel() - 1)
      fail(n, c, "its codebook has no decision boundaries (thresholds) to quantize activations with");
    const std::string thr = n.name + ".codebook_thresholds";
    out.initializers[thr] = exec::to_ir(s.thresholds.detach().to(at::kFloat).contiguous());
    out.buffers.insert(thr);
    index = n.name + ".index";
    out.nodes.push_back(make_node(n.name + ".codebook_quantize", "CodebookQuantize", {x, thr}, {index}));
  }
  ir::Node dq = make_node(n.name + ".codebook_dequantize", "CodebookDequantize", {index, levels}, {n.outputs.at(0)});
  if (s.levels.dim() == 2) dq.attrs.set("axis", int64_t{0});
  out.nodes.push_back(std::move(dq));
}
}  // namespace

ir::Graph to_qdq(const ir::Graph& model, const QdqOptions& opt) {
  register_quantization();
  ir::Graph g = model;
  fold_batchnorm_for_export(g);  // BatchNorm folded during QAT: deploy the folded layer
  bool any = false;
  for (const ir::Node& n : g.nodes) any |= n.op == kFakeQuantOp;
  if (!any)
    throw std::runtime_error("QDQ export: the model has no quantizers; quantize it first (qforge ptq, or train a recipe "
                             "with a quantize: section), or export it as float ONNX with --format onnx");
  // Rewritten in place (one copy of the weights, not two): the quantizers' own state stays readable in
  // g.initializers (the same map as out's) while their replacements are added.
  const std::vector<ir::Node> nodes = std::move(g.nodes);
  g.nodes.clear();
  ir::Graph& out = g;
  for (const ir::Node& n : nodes) {
    if (n.op != kFakeQuantOp) {
      out.nodes.push_back(n);
      continue;
    }
    const QuantizerConfig c = config_from_node(n);
    const Role r = role_of(n);
    std::vector<at::Tensor> p = state_of(g, n, c);
    GridSpec s = method(c.method).grid(c, r, p);
    if (r == Role::Weight) s = pow2_as_grid(signed_levels_as_grid(s));
    if (opt.codebooks && has_codebook(s)) {
      add_codebook_nodes(g, n, c, r, p, s, out);
      continue;
    }
    const Qparams q = qparams(n, c, s);
    const std::string scale = n.name + ".qdq_scale", zero = n.name + ".qdq_zero_point";
    out.initializers[scale] = exec::to_ir(q.scale.numel() == 1 ? q.scale.reshape({}) : q.scale);
    out.initializers[zero] = exec::to_ir(q.zero_point.numel() == 1 ? q.zero_point.reshape({}) : q.zero_point);
    out.buffers.insert(scale);
    out.buffers.insert(zero);
    const std::string& x = n.inputs.at(0);
    auto w = g.initializers.find(x);
    if (r == Role::Weight && w != g.initializers.end()) {
      const std::string ints = n.name + ".qdq_weight";
      out.initializers[ints] = exec::to_ir(integer_weights(n, c, p, exec::to_aten(w->second), s, q));
      out.buffers.insert(ints);
      ir::Node dq = make_node(n.name + ".dequantize", "DequantizeLinear", {ints, scale, zero}, {n.outputs.at(0)});
      dq.attrs.set("axis", int64_t{0});
      out.nodes.push_back(std::move(dq));
      continue;
    }
    if (q.scale.numel() != 1) fail(n, c, "per-channel activation grids have no QDQ form here");
    std::string src = x;
    const int64_t lo = q.type == at::kByte ? 0 : -128, hi = q.type == at::kByte ? 255 : 127;
    if (s.qmin != lo || s.qmax != hi) {
      // A grid narrower than the storage type: clip to it first, since QuantizeLinear saturates
      // only at the type's limits.
      const float sc = q.scale.item<float>(), zp = q.zero_point.to(at::kFloat).item<float>();
      const std::string cmin = n.name + ".qdq_clip_min", cmax = n.name + ".qdq_clip_max";
      out.initializers[cmin] = ir::Tensor::floats({}, {(static_cast<float>(s.qmin) - zp) * sc});
      out.initializers[cmax] = ir::Tensor::floats({}, {(static_cast<float>(s.qmax) - zp) * sc});
      out.buffers.insert(cmin);
      out.buffers.insert(cmax);
      src = n.name + ".clipped";
      out.nodes.push_back(make_node(n.name + ".clip", "Clip", {x, cmin, cmax}, {src}));
    }
    const std::string quantized = n.name + ".quantized";
    out.nodes.push_back(make_node(n.name + ".quantize", "QuantizeLinear", {src, scale, zero}, {quantized}));
    out.nodes.push_back(make_node(n.name + ".dequantize", "DequantizeLinear", {quantized, scale, zero}, {n.outputs.at(0)}));
  }
  ir::eliminate_dead_nodes(out);
  out.validate();
  return std::move(out);
}

}  // namespace qforge::quant
