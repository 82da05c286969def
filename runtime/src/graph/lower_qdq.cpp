// Rewrites, in this order (each keeps the graph topologically sorted and exact up to rounding;
// runtime/README.md lists them with the same numbers):
//  1. BatchNormalization after a Conv with DequantizeLinear'd (or codebook) weights folds into that Conv: its
//     per-channel factor a = gamma / sqrt(var + eps) joins the weight scales (a > 0 only, so the
//     int8 weights stay as they are) or multiplies the codebook's row of levels (any sign), and the bias
//     becomes a (b - mean) + beta. QAT exports keep BN.
//  2. Q absorbs what it can commute with: Q(Relu(y)) = max(Q(y), zp) and Q(Clip(y, a, b)) =
//     clamp(Q(y), Q(a), Q(b)) become an output clamp (qf_lo / qf_hi) on Q, since Q is monotonic;
//     Q(MaxPool(y)) = MaxPool(Q(y)) and Q(Flatten/Reshape/Identity/Dropout(y)) likewise move Q up,
//     when Q is the data op's only reader (else the op would run twice: in float and on integers);
//     so does Q(Min(y, b)) with b one bound per channel ([C, 1, ...], the per-channel clip cross-layer
//     equalization leaves for ReLU6), as qf.QChannelMin(Q(y), Q(b)); a scalar b joins qf_hi.
//  3. DequantizeLinear sinks below MaxPool / Flatten / Reshape / Identity / Dropout, which then
//     run on the integer tensor.
//  4. DQ(x) -> Conv / Gemm / MatMul (weights DQ(int8 initializer)) -> Q  becomes QLinearConv or
//     qf.QGemm with a fused requantization (bias folded); without a single Q after it, the layer
//     still runs in integers with a float output (qf.QConvToFloat, qf.QGemm with no y_scale).
//  5. qf.QConvToFloat -> Add(., R) [-> Relu] (a residual block's end) becomes one qf.QConvToFloat
//     whose float epilogue adds R and applies the ReLU; so does qf.QConvToFloat -> Relu (a stem
//     whose float output also feeds a residual; other readers must be Q nodes clamping at zero).
//  6. DQ(a) + DQ(b) -> Q becomes qf.QAdd; DQ -> AveragePool / GlobalAveragePool -> Q becomes
//     qf.QAveragePool.
//  7. DQ (and qf.CodebookDequantize) of constants is folded into float initializers; dead nodes are removed.
// At load only (fuse_output_quantize, fuse_channel_clip; not stored in a .qfp, so files stay as they were and a
// runtime that predates a rewrite still reads them right):
//  9. qf.QConvToFloat -> QuantizeLinear (per tensor) becomes a second output of the conv, written by its float
//     epilogue from the same floats: one pass instead of a float write and a read back.
// 10. QLinearConv -> qf.QChannelMin (the conv its only reader) becomes the conv's per-channel upper clamp
//     (qf_channel_hi): min(requant(v), b[m]) is the requantization clamped at min(hi, b[m]).
#include "graph/lower_qdq.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/error.h"
#include "graph/codebook.h"
#include "graph/qparams.h"

namespace qfrt {

bool commutes_with_quantization(const std::string& op) {
  return op == "MaxPool" || op == "Flatten" || op == "Identity" || op == "Dropout" || op == "Reshape";
}

namespace {

struct Rewriter {
  Graph& g;
  std::set<std::string> graph_outputs;
  explicit Rewriter(Graph& gr) : g(gr), graph_outputs(gr.outputs.begin(), gr.outputs.end()) {}

  int producer(const std::string& v) const {
    for (size_t i = 0; i < g.nodes.size(); ++i)
      for (const auto& o : g.nodes[i].outputs)
        if (o == v) return static_cast<int>(i);
    return -1;
  }
  std::vector<int> consumers(const std::string& v) const {
    std::vector<int> r;
    for (size_t i = 0; i < g.nodes.size(); ++i)
      for (const auto& in : g.nodes[i].inputs)
        if (in == v) {
          r.push_back(static_cast<int>(i));
          break;
        }
    return r;
  }
  bool is_const(const std::string& v) const { return !v.empty() && g.constant(v); }
  bool per_tensor_params(const Node& n) const {  // scale (and zero point) constant scalars
    const Tensor* s = g.constant(n.input(1));
    return s && s->numel() == 1 && (n.input(2).empty() || (is_const(n.input(2)) && g.constant(n.input(2))->numel() == 1));
  }
  // DequantizeLinear of an activation (per tensor).
  const Node* act_dq(const std::string& v) const {
    const int p = producer(v);
    if (p < 0) return nullptr;
    const Node& n = g.nodes[static_cast<size_t>(p)];
    if (n.op != "DequantizeLinear" || is_const(n.input(0)) || !per_tensor_params(n)) return nullptr;
    return &n;
  }
  // DequantizeLinear of an int8/uint8 initializer.
  const Node* weight_dq(const std::string& v) const {
    const int p = producer(v);
    if (p < 0) return nullptr;
    const Node& n = g.nodes[static_cast<size_t>(p)];
    if (n.op != "DequantizeLinear" || !is_const(n.input(0)) || !is_const(n.input(1))) return nullptr;
    const DType t = g.constant(n.input(0))->dtype;
    if ((t != DType::U8 && t != DType::S8) || (!n.input(2).empty() && !is_const(n.input(2)))) return nullptr;
    return &n;
  }
  // v = qf.CodebookDequantize(constant index, constant levels): levels per tensor, or rows along axis 0.
  const Node* codebook_weights(const std::string& v) const {
    const int p = producer(v);
    if (p < 0) return nullptr;
    const Node& n = g.nodes[static_cast<size_t>(p)];
    if (n.op != "qf.CodebookDequantize" || !is_const(n.input(0)) || !is_const(n.input(1))) return nullptr;
    const Tensor &ix = *g.constant(n.input(0)), &lv = *g.constant(n.input(1));
    if (ix.rank() < 1 || lv.dtype != DType::F32 || lv.numel() == 0) return nullptr;
    if (lv.rank() == 2 && (n.i("axis", 0) != 0 || lv.dim(0) != ix.dim(0))) return nullptr;
    return lv.rank() <= 2 ? &n : nullptr;
  }
  // The single QuantizeLinear (per tensor) reading v, when that is v's only use.
  int single_q(const std::string& v) const {
    if (graph_outputs.count(v)) return -1;
    const std::vector<int> c = consumers(v);
    if (c.size() != 1) return -1;
    const Node& q = g.nodes[static_cast<size_t>(c[0])];
    if (q.op != "QuantizeLinear" || q.input(0) != v || !per_tensor_params(q)) return -1;
    return c[0];
  }
  std::string fresh(const std::string& base) const {
    std::string s = base;
    for (int i = 0; producer(s) >= 0 || g.constant(s) || std::find(g.inputs.begin(), g.inputs.end(), s) != g.inputs.end(); ++i)
      s = base + "_" + std::to_string(i);
    return s;
  }

  // The integer a float value becomes under Q's scale and zero point (for Clip bounds).
  int32_t q_of(const Node& q, float v, int32_t lo, int32_t hi) const {
    const float s = g.constant(q.input(1))->data<float>()[0];
    const int32_t zp = q.input(2).empty() ? 0 : static_cast<int32_t>(g.constant(q.input(2))->as_int(0));
    const double r = static_cast<double>(std::nearbyint(v / s)) + zp;
    return static_cast<int32_t>(r < lo ? lo : (r > hi ? hi : r));
  }

  void fold_batchnorm() {
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node bn = g.nodes[i];
      if (bn.op != "BatchNormalization" || bn.outputs.size() != 1) continue;
      const int p = producer(bn.input(0));
      if (p < 0 || g.nodes[static_cast<size_t>(p)].op != "Conv" || graph_outputs.count(bn.input(0)) ||
          consumers(bn.input(0)).size() != 1)
        continue;
      const Node conv = g.nodes[static_cast<size_t>(p)];
      const Node* wd = weight_dq(conv.input(1));
      const Node* cb = wd ? nullptr : codebook_weights(conv.input(1));
      if (!(wd && weight_axis_ok(*wd, 0)) && !cb) continue;
      const Tensor& wq = *g.constant((wd ? wd : cb)->input(0));
      const int64_t M = wq.dim(0);
      const Tensor* prm[4];
      bool ok = true;
      for (size_t k = 0; k < 4; ++k) {
        prm[k] = g.constant(bn.input(k + 1));
        ok &= prm[k] && prm[k]->dtype == DType::F32 && prm[k]->numel() == M;
      }
      if (!ok) continue;
      std::vector<double> a(static_cast<size_t>(M));
      for (int64_t m = 0; m < M; ++m) {
        a[static_cast<size_t>(m)] = prm[0]->data<float>()[m] / std::sqrt(static_cast<double>(prm[3]->data<float>()[m]) + bn.f("epsilon", 1e-5f));
        // A weight scale must stay positive; a row of levels may flip sign (a negative gamma).
        ok &= std::isfinite(a[static_cast<size_t>(m)]) && (cb || a[static_cast<size_t>(m)] > 0);
      }
      std::string bias;
      if (!ok || !float_bias(conv.input(2), M, bias)) continue;
      const std::string base = conv.name + ".qf_bn";
      Tensor nb(DType::F32, {M});
      for (int64_t m = 0; m < M; ++m) {
        const double am = a[static_cast<size_t>(m)], b = bias.empty() ? 0.0 : g.constant(bias)->data<float>()[m];
        nb.data<float>()[m] = static_cast<float>((b - prm[2]->data<float>()[m]) * am + prm[1]->data<float>()[m]);
      }
      g.initializers[base + "_bias"] = std::move(nb);
      Node d = *(wd ? weight_dq(conv.input(1)) : codebook_weights(conv.input(1)));  // float_bias may have moved nodes
      d.name = base + (wd ? "_wdq" : "_wcb");
      d.outputs = {fresh(base + "_w")};
      d.attrs["axis"].i = 0;
      if (wd) {
        // Per-channel weight scales s[m] * a[m]; zero points as they were.
        const Tensor &s = *g.constant(d.input(1)), *z = d.input(2).empty() ? nullptr : g.constant(d.input(2));
        Tensor ns(DType::F32, {M}), nz(wq.dtype, {M});
        for (int64_t m = 0; m < M; ++m) {
          ns.data<float>()[m] = static_cast<float>(s.data<float>()[s.numel() == 1 ? 0 : m] * a[static_cast<size_t>(m)]);
          nz.bytes[static_cast<size_t>(m)] = z ? z->bytes[static_cast<size_t>(z->numel() == 1 ? 0 : m)] : 0;
        }
        g.initializers[base + "_scale"] = std::move(ns);
        g.initializers[base + "_zero_point"] = std::move(nz);
        d.inputs = {d.input(0), base + "_scale", base + "_zero_point"};
      } else {
        // Codebook weights: row m of the levels times a[m] (per-tensor levels become per-channel rows).
        const Tensor& lv = *g.constant(d.input(1));
        const int64_t L = lv.shape.back();
        Tensor nl(DType::F32, {M, L});
        for (int64_t m = 0; m < M; ++m)
          for (int64_t l = 0; l < L; ++l)
            nl.data<float>()[m * L + l] = static_cast<float>(lv.data<float>()[(lv.rank() == 2 ? m * L : 0) + l] * a[static_cast<size_t>(m)]);
        g.initializers[base + "_levels"] = std::move(nl);
        d.inputs = {d.input(0), base + "_levels"};
      }
      Node c = conv;
      if (c.inputs.size() < 3) c.inputs.resize(3);
      c.inputs[1] = d.outputs[0];
      c.inputs[2] = base + "_bias";
      c.outputs = {bn.outputs[0]};
      const size_t at = static_cast<size_t>(producer(conv.outputs[0])), bn_at = static_cast<size_t>(producer(bn.outputs[0]));
      g.nodes.erase(g.nodes.begin() + static_cast<long>(bn_at));
      g.nodes[at] = c;
      g.nodes.insert(g.nodes.begin() + static_cast<long>(at), d);
    }
  }

  // Q at index i, reading node p (p < i, Q its only reader), becomes q2 -> op2: q2 takes p's input, op2 does
  // p's work on the quantized values. p, now unread, goes, so a chain of such ops (Min, then MaxPool)
  // keeps moving Q up. Leaves q2 at index i.
  void move_quantize_up(size_t& i, size_t p, const Node& q2, const Node& op2) {
    g.nodes[i] = op2;
    g.nodes.insert(g.nodes.begin() + static_cast<long>(i), q2);
    g.nodes.erase(g.nodes.begin() + static_cast<long>(p));
    --i;
  }

  void absorb_into_quantize() {
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      if (g.nodes[i].op != "QuantizeLinear" || !per_tensor_params(g.nodes[i])) continue;
      for (;;) {
        Node& q = g.nodes[i];
        const DType t = q.input(2).empty() ? DType::U8 : g.constant(q.input(2))->dtype;
        const int32_t tlo = t == DType::S8 ? -128 : 0, thi = t == DType::S8 ? 127 : 255;
        int32_t lo = static_cast<int32_t>(q.i("qf_lo", tlo)), hi = static_cast<int32_t>(q.i("qf_hi", thi));
        const int p = producer(q.input(0));
        if (p < 0) break;
        const Node pn = g.nodes[static_cast<size_t>(p)];
        if (pn.op == "Relu") {
          lo = std::max(lo, q_of(q, 0.f, tlo, thi));
        } else if (pn.op == "Clip") {
          float a = pn.f("min", -INFINITY), b = pn.f("max", INFINITY);
          if (!pn.input(1).empty()) {
            if (!is_const(pn.input(1))) break;
            a = static_cast<float>(g.constant(pn.input(1))->as_double(0));
          }
          if (!pn.input(2).empty()) {
            if (!is_const(pn.input(2))) break;
            b = static_cast<float>(g.constant(pn.input(2))->as_double(0));
          }
          lo = std::max(lo, q_of(q, a, tlo, thi));
          hi = std::min(hi, q_of(q, b, tlo, thi));
        } else if (pn.op == "Min" && pn.inputs.size() == 2 && !is_const(pn.input(0)) && is_const(pn.input(1)) &&
                   g.constant(pn.input(1))->dtype == DType::F32) {
          const Tensor& b = *g.constant(pn.input(1));
          if (b.numel() == 1) {
            hi = std::min(hi, q_of(q, b.data<float>()[0], tlo, thi));
          } else {
            // A per-channel clip (bound [C, 1, ...]): Q(Min(y, b)) = qf.QChannelMin(Q(y), Q(b)), Q moving up.
            bool per_channel = b.rank() >= 1;
            for (int k = 1; k < b.rank(); ++k) per_channel &= b.dim(k) == 1;
            if (!per_channel || consumers(pn.outputs[0]).size() != 1 || graph_outputs.count(pn.outputs[0])) break;
            Tensor bq(t, b.shape);
            for (int64_t c = 0; c < b.numel(); ++c) {
              const int32_t v = std::min(hi, std::max(lo, q_of(q, b.data<float>()[c], tlo, thi)));
              bq.bytes[static_cast<size_t>(c)] = static_cast<uint8_t>(v);  // an int8 code's two's-complement byte
            }
            const std::string bound = fresh(pn.name + "_qf_bound");
            g.initializers[bound] = std::move(bq);
            Node q2 = q, op2;
            q2.name = q.name + "_qf_up";
            q2.inputs[0] = pn.inputs[0];
            q2.outputs = {fresh(pn.outputs[0] + "_qf_q")};
            op2.name = pn.name + "_qf_int";
            op2.op = "qf.QChannelMin";
            op2.inputs = {q2.outputs[0], bound};
            op2.outputs = {q.outputs[0]};
            move_quantize_up(i, static_cast<size_t>(p), q2, op2);
            continue;  // keep absorbing into q2, now at index i
          }
        } else if (commutes_with_quantization(pn.op) && (pn.op != "Reshape" || is_const(pn.input(1)))) {
          if (pn.outputs.size() > 1 && !pn.outputs[1].empty()) break;
          if (consumers(pn.outputs[0]).size() != 1 || graph_outputs.count(pn.outputs[0])) break;
          // Q moves above the data op: q2 = Q(input), op2 = op(q2) -> q's output.
          Node q2 = q, op2 = pn;
          q2.name = q.name + "_qf_up";
          q2.inputs[0] = pn.inputs[0];
          q2.outputs = {fresh(pn.outputs[0] + "_qf_q")};
          op2.name = pn.name + "_qf_int";
          op2.inputs[0] = q2.outputs[0];
          op2.outputs = {q.outputs[0]};
          move_quantize_up(i, static_cast<size_t>(p), q2, op2);
          continue;  // keep absorbing into q2, now at index i
        } else {
          break;
        }
        q.inputs[0] = pn.inputs[0];
        if (lo != tlo) q.attrs["qf_lo"].i = lo;
        if (hi != thi) q.attrs["qf_hi"].i = hi;
        if (lo > hi) fail(g.source + ": " + q.label() + ": the clip range is empty");
      }
    }
  }

  void sink_dequantize() {
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node c = g.nodes[i];
      if (!commutes_with_quantization(c.op) || (c.outputs.size() > 1 && !c.outputs[1].empty())) continue;
      const Node* d = act_dq(c.input(0));
      if (!d) continue;
      Node c2 = c, d2 = *d;
      c2.name = c.name + "_qf_int";
      c2.inputs[0] = d->inputs[0];
      c2.outputs = {fresh(c.outputs[0] + "_qf_int")};
      d2.name = c.name + "_qf_dq";
      d2.inputs[0] = c2.outputs[0];
      d2.outputs = {c.outputs[0]};
      g.nodes[i] = d2;
      g.nodes.insert(g.nodes.begin() + static_cast<long>(i), c2);
      ++i;
    }
  }

  // Float bias of a layer: a float initializer, a DQ of an int32 initializer, or none.
  bool float_bias(const std::string& v, int64_t n, std::string& out) {
    if (v.empty()) return true;
    const Tensor* b = g.constant(v);
    if (!b) {
      const Node* d = weight_dq(v);
      const int p = producer(v);
      if (d || p < 0) return false;
      const Node& dn = g.nodes[static_cast<size_t>(p)];
      if (dn.op != "DequantizeLinear" || !is_const(dn.input(0)) || !is_const(dn.input(1))) return false;
      fold_constant_dq(static_cast<size_t>(p));
      b = g.constant(v);
    }
    if (!b || b->dtype != DType::F32 || b->numel() != n) return false;
    out = v;
    return true;
  }

  void fold_constant_dq(size_t i) {
    const Node& d = g.nodes[i];
    const Tensor &x = *g.constant(d.input(0)), &s = *g.constant(d.input(1));
    const Tensor* z = d.input(2).empty() ? nullptr : g.constant(d.input(2));
    Tensor y(DType::F32, x.shape);
    int64_t outer = 1, len = 1, inner = x.numel();
    if (s.numel() > 1) {
      int64_t axis = d.i("axis", 1);
      if (axis < 0) axis += x.rank();
      if (axis < 0 || axis >= x.rank() || x.dim(static_cast<int>(axis)) != s.numel())
        fail(g.source + ": " + d.label() + ": scale does not match axis " + std::to_string(axis) + " of " + shape_str(x.shape));
      len = s.numel();
      inner = 1;
      for (int k = 0; k < axis; ++k) outer *= x.dim(k);
      for (int k = static_cast<int>(axis) + 1; k < x.rank(); ++k) inner *= x.dim(k);
    }
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t c = 0; c < len; ++c)
        for (int64_t k = 0; k < inner; ++k) {
          const int64_t at = (o * len + c) * inner + k;
          y.data<float>()[at] = static_cast<float>(x.as_int(at) - (z ? z->as_int(c) : 0)) * static_cast<float>(s.as_double(c));
        }
    g.initializers[d.outputs.at(0)] = std::move(y);
    g.nodes.erase(g.nodes.begin() + static_cast<long>(i));
  }

  // Per-channel weight scales must run along the output channels.
  bool weight_axis_ok(const Node& wdq, int64_t out_axis) const {
    if (g.constant(wdq.input(1))->numel() == 1) return true;
    const int64_t rank = g.constant(wdq.input(0))->rank();
    int64_t axis = wdq.i("axis", 1);
    if (axis < 0) axis += rank;
    return axis == out_axis;
  }

  std::string transposed(const std::string& w) {
    const Tensor& t = *g.constant(w);
    const std::string name = w + "_qf_t";
    if (g.constant(name)) return name;
    Tensor r(t.dtype, {t.dim(1), t.dim(0)});
    for (int64_t a = 0; a < t.dim(0); ++a)
      for (int64_t b = 0; b < t.dim(1); ++b) r.bytes[static_cast<size_t>(b * t.dim(0) + a)] = t.bytes[static_cast<size_t>(a * t.dim(1) + b)];
    g.initializers[name] = std::move(r);
    return name;
  }

  void integer_layers() {
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node c = g.nodes[i];
      if (c.op != "Conv" && c.op != "Gemm" && c.op != "MatMul") continue;
      const Node* xd = act_dq(c.input(0));
      const Node* wd = weight_dq(c.input(1));
      if (!xd || !wd) continue;
      const Tensor& w = *g.constant(wd->input(0));
      std::string wname = wd->input(0), bias;
      int64_t M;
      if (c.op == "Conv") {
        if (w.rank() < 3 || !weight_axis_ok(*wd, 0)) continue;
        M = w.dim(0);
      } else {
        if (w.rank() != 2) continue;
        const bool tb = c.op == "Gemm" && c.i("transB", 0) != 0;
        if (c.op == "Gemm" && (c.i("transA", 0) != 0 || c.f("alpha", 1.f) != 1.f || c.f("beta", 1.f) != 1.f)) continue;
        if (!weight_axis_ok(*wd, tb ? 0 : 1)) continue;
        M = tb ? w.dim(0) : w.dim(1);
        if (!tb) wname = transposed(wname);
      }
      const Node xdq = *xd, wdq = *wd;
      if (!float_bias(c.op == "MatMul" ? "" : c.input(2), M, bias)) continue;
      const size_t at = static_cast<size_t>(producer(c.outputs[0]));  // folding may have shifted indices
      Node n;
      n.name = c.name + "_qf_int";
      n.attrs = c.attrs;
      n.attrs.erase("transA");
      n.attrs.erase("transB");
      n.attrs.erase("alpha");
      n.attrs.erase("beta");
      const std::vector<std::string> xin = {xdq.input(0), xdq.input(1), xdq.input(2)};
      const std::vector<std::string> win = {wname, wdq.input(1), wdq.input(2)};
      const int q = single_q(c.outputs[0]);
      n.inputs = xin;
      n.inputs.insert(n.inputs.end(), win.begin(), win.end());
      if (q >= 0) {
        const Node& qn = g.nodes[static_cast<size_t>(q)];
        n.op = c.op == "Conv" ? "QLinearConv" : "qf.QGemm";
        n.inputs.push_back(qn.input(1));
        n.inputs.push_back(qn.input(2));
        for (const char* a : {"qf_lo", "qf_hi"})
          if (qn.has(a)) n.attrs[a] = qn.attrs.at(a);
        n.outputs = {qn.outputs[0]};
      } else {
        n.op = c.op == "Conv" ? "qf.QConvToFloat" : "qf.QGemm";
        if (c.op != "Conv") n.inputs.insert(n.inputs.end(), {"", ""});
        n.outputs = {c.outputs[0]};
      }
      n.inputs.push_back(bias);
      g.nodes[at] = n;
      if (q >= 0) g.nodes.erase(g.nodes.begin() + q);
      i = at;
    }
  }

  // A QuantizeLinear that already clamps at its zero point (an absorbed ReLU) reads y or relu(y) alike.
  bool q_after_relu(const Node& q) const {
    if (q.op != "QuantizeLinear" || !per_tensor_params(q)) return false;
    const Tensor* z = q.input(2).empty() ? nullptr : g.constant(q.input(2));
    const int64_t zp = z ? z->as_int(0) : 0, type_lo = z && z->dtype == DType::S8 ? -128 : 0;
    return q.i("qf_lo", type_lo) >= zp;
  }

  // The Relu reading v that v's producer can apply in its epilogue: v is no graph output and every other
  // reader is a QuantizeLinear clamping at zero (it may read the Relu's output instead). -1: none.
  int fusable_relu(const std::string& v) const {
    if (graph_outputs.count(v)) return -1;
    int relu = -1;
    for (int k : consumers(v)) {
      const Node& r = g.nodes[static_cast<size_t>(k)];
      if (r.op == "Relu" && relu < 0) relu = k;
      else if (!q_after_relu(r)) return -1;
    }
    return relu;
  }
  // Points v's readers other than node `relu` at the Relu's output, which it returns.
  std::string readers_to_relu(const std::string& v, int relu) {
    const std::string r_out = g.nodes[static_cast<size_t>(relu)].outputs[0];
    for (int k : consumers(v))
      if (k != relu) g.nodes[static_cast<size_t>(k)].inputs[0] = r_out;
    return r_out;
  }

  void fuse_residual() {
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node c = g.nodes[i];
      if (c.op != "qf.QConvToFloat" || c.inputs.size() > 7 || graph_outputs.count(c.outputs[0])) continue;
      const std::vector<int> cons = consumers(c.outputs[0]);
      if (cons.size() != 1) continue;
      const size_t add_at = static_cast<size_t>(cons[0]);
      const Node add = g.nodes[add_at];
      if (add.op != "Add" || add.inputs.size() != 2 || add.inputs[0] == add.inputs[1]) continue;
      const std::string other = add.inputs[0] == c.outputs[0] ? add.inputs[1] : add.inputs[0];
      if (is_const(other)) continue;  // a constant would broadcast; leave it to the float Add
      Node f = c;
      f.name = c.name + "_residual";
      f.inputs.resize(7);
      f.inputs.push_back(other);
      f.outputs = {add.outputs[0]};
      // Fuse the ReLU too when the Add's other readers are QuantizeLinear nodes that clamp at zero anyway.
      const int relu = fusable_relu(add.outputs[0]);
      if (relu >= 0) {
        const std::string r_out = readers_to_relu(add.outputs[0], relu);
        f.attrs["qf_relu"].i = 1;
        f.outputs = {r_out};
        g.nodes[static_cast<size_t>(relu)] = f;
        g.nodes.erase(g.nodes.begin() + static_cast<long>(add_at));
      } else {
        g.nodes[add_at] = f;
      }
      g.nodes.erase(g.nodes.begin() + static_cast<long>(i));
      --i;
    }
  }

  // qf.QConvToFloat -> Relu: the float epilogue applies it, when the conv's other readers are
  // QuantizeLinear nodes that clamp at zero anyway (step 2 made Q(Relu(y)) read y); they then read the
  // fused output. The fused node takes the conv's place, which precedes every reader.
  void fuse_relu() {
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node c = g.nodes[i];
      if (c.op != "qf.QConvToFloat" || c.i("qf_relu", 0)) continue;
      const int relu = fusable_relu(c.outputs[0]);
      if (relu < 0) continue;
      const std::string r_out = readers_to_relu(c.outputs[0], relu);
      Node f = c;
      f.attrs["qf_relu"].i = 1;
      f.outputs = {r_out};
      g.nodes[i] = f;
      g.nodes.erase(g.nodes.begin() + relu);
    }
  }

  void integer_add_and_pool() {
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node c = g.nodes[i];
      const bool add = c.op == "Add", pool = c.op == "AveragePool" || c.op == "GlobalAveragePool";
      if (!add && !pool) continue;
      const Node* a = act_dq(c.input(0));
      const Node* b = add ? act_dq(c.input(1)) : nullptr;
      if (!a || (add && !b)) continue;
      const int q = single_q(c.outputs[0]);
      if (q < 0) continue;
      const Node& qn = g.nodes[static_cast<size_t>(q)];
      Node n;
      n.name = c.name + "_qf_int";
      n.op = add ? "qf.QAdd" : "qf.QAveragePool";
      n.attrs = c.attrs;
      n.inputs = {a->input(0), a->input(1), a->input(2)};
      if (add) n.inputs.insert(n.inputs.end(), {b->input(0), b->input(1), b->input(2)});
      n.inputs.insert(n.inputs.end(), {qn.input(1), qn.input(2)});
      if (pool) {
        if (qn.has("qf_lo") || qn.has("qf_hi")) continue;
        if (c.op == "GlobalAveragePool") n.attrs["qf_global"].i = 1;
      }
      for (const char* at : {"qf_lo", "qf_hi"})
        if (qn.has(at)) n.attrs[at] = qn.attrs.at(at);
      n.outputs = {qn.outputs[0]};
      g.nodes[i] = n;
      g.nodes.erase(g.nodes.begin() + q);
    }
  }

  void fold_constants() {
    for (size_t i = 0; i < g.nodes.size();) {
      const Node& d = g.nodes[i];
      if (d.op == "DequantizeLinear" && is_const(d.input(0)) && is_const(d.input(1)) && (d.input(2).empty() || is_const(d.input(2)))) {
        fold_constant_dq(i);
      } else if (d.op == "qf.CodebookDequantize" && is_const(d.input(0)) && is_const(d.input(1))) {
        g.initializers[d.outputs.at(0)] = codebook_dequantize(d, *g.constant(d.input(0)), *g.constant(d.input(1)));
        g.nodes.erase(g.nodes.begin() + static_cast<long>(i));
      } else
        ++i;
    }
  }

  void fuse_output_quantize() {
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      Node& c = g.nodes[i];
      if (c.op != "qf.QConvToFloat" || c.outputs.size() != 1 || c.inputs.size() > 8) continue;
      for (int k : consumers(c.outputs[0])) {
        const Node q = g.nodes[static_cast<size_t>(k)];
        if (q.op != "QuantizeLinear" || q.inputs[0] != c.outputs[0] || q.outputs.size() != 1) continue;
        const Tensor* s = g.constant(q.input(1));
        const Tensor* z = q.input(2).empty() ? nullptr : g.constant(q.input(2));
        if (!s || s->dtype != DType::F32 || s->numel() != 1 || !(s->data<float>()[0] > 0) || !std::isfinite(s->data<float>()[0])) continue;
        if (!q.input(2).empty() && (!z || !is_quantized_type(z->dtype) || z->numel() != 1)) continue;
        c.inputs.resize(8);
        c.inputs.push_back(q.input(1));
        c.inputs.push_back(q.input(2));
        c.outputs.push_back(q.outputs[0]);
        for (const char* a : {"lo", "hi"})
          if (q.has(std::string("qf_") + a)) c.attrs[std::string("qf_q_") + a] = q.attrs.at(std::string("qf_") + a);
        g.nodes.erase(g.nodes.begin() + k);  // k > i: a reader comes after its producer
        break;
      }
    }
  }

  void fuse_channel_clip() {
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      Node& c = g.nodes[i];
      if (c.op != "QLinearConv" || c.outputs.size() != 1 || c.has("qf_channel_hi") || graph_outputs.count(c.outputs[0])) continue;
      const std::vector<int> readers = consumers(c.outputs[0]);
      if (readers.size() != 1) continue;
      const size_t k = static_cast<size_t>(readers[0]);
      const Node m = g.nodes[k];
      const Tensor* b = m.inputs.size() == 2 && m.inputs[0] == c.outputs[0] ? g.constant(m.input(1)) : nullptr;
      const Tensor* w = g.constant(c.input(3));
      const Tensor* yz = c.input(7).empty() ? nullptr : g.constant(c.input(7));
      const DType yt = yz ? yz->dtype : DType::U8;
      if (m.op != "qf.QChannelMin" || !b || !w || b->dtype != yt || b->numel() != w->dim(0) || b->rank() + 1 != w->rank()) continue;
      // A bound below the conv's lower clamp (a negative bound after a fused Relu) would need the clamp's
      // order reversed: left as its own op.
      int32_t lo, out_hi;
      output_clamp(c, yt, lo, out_hi);
      Attr hi;
      hi.kind = Attr::Ints;
      for (int64_t ch = 0; ch < b->numel(); ++ch) hi.ints.push_back(b->as_int(ch));
      if (*std::min_element(hi.ints.begin(), hi.ints.end()) < lo) continue;
      c.attrs["qf_channel_hi"] = hi;
      c.outputs = m.outputs;
      g.nodes.erase(g.nodes.begin() + static_cast<long>(k));  // k > i: a reader comes after its producer
    }
  }

  void remove_dead() {
    for (bool changed = true; changed;) {
      changed = false;
      std::set<std::string> used(graph_outputs);
      for (const Node& n : g.nodes) used.insert(n.inputs.begin(), n.inputs.end());
      for (size_t i = g.nodes.size(); i-- > 0;) {
        bool live = false;
        for (const auto& o : g.nodes[i].outputs) live |= !o.empty() && used.count(o);
        if (!live) {
          g.nodes.erase(g.nodes.begin() + static_cast<long>(i));
          changed = true;
        }
      }
    }
    std::set<std::string> used(graph_outputs);
    for (const Node& n : g.nodes) used.insert(n.inputs.begin(), n.inputs.end());
    for (auto it = g.initializers.begin(); it != g.initializers.end();)
      it = used.count(it->first) ? std::next(it) : g.initializers.erase(it);
  }
};
}  // namespace

void fuse_output_quantize(Graph& g) { Rewriter(g).fuse_output_quantize(); }
void fuse_channel_clip(Graph& g) {
  Rewriter r(g);
  r.fuse_channel_clip();
  r.remove_dead();  // the bounds
}

void fold_constant_dequantize(Graph& g) {
  Rewriter r(g);
  r.fold_constants();
  r.remove_dead();
}

void lower_qdq(Graph& g, bool fold_weights) {
  Rewriter r(g);
  r.fold_batchnorm();
  r.remove_dead();
  r.absorb_into_quantize();
  r.remove_dead();  // absorbed Relu / Clip nodes must not count as consumers below
  r.sink_dequantize();
  r.remove_dead();
  r.integer_layers();
  r.fuse_residual();
  r.fuse_relu();
  r.integer_add_and_pool();
  if (fold_weights) r.fold_constants();
  r.remove_dead();
}

std::map<std::string, int> op_histogram(const Graph& g) {
  std::map<std::string, int> h;
  for (const Node& n : g.nodes) ++h[n.op];
  return h;
}

}  // namespace qfrt
