#include "graph/codebook.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>

#include "core/cpu.h"
#include "core/error.h"
#include "core/parallel.h"
#include "graph/lower_qdq.h"
#include "kernels/codebook_lookup.h"

namespace qfrt {

Tensor codebook_dequantize(const Node& n, const Tensor& index, const Tensor& levels) {
  if (index.dtype != DType::U8) fail(n.label() + ": the index must be uint8");
  if (levels.dtype != DType::F32 || (levels.rank() != 1 && levels.rank() != 2) || levels.numel() == 0)
    fail(n.label() + ": levels must be float32 [L] or [C, L], got " + shape_str(levels.shape));
  const int64_t L = levels.shape.back(), rows = levels.rank() == 2 ? levels.dim(0) : 1;
  int64_t outer = 1, inner = index.numel();
  if (levels.rank() == 2) {
    int64_t axis = n.i("axis", 0);
    if (axis < 0) axis += index.rank();
    if (axis < 0 || axis >= index.rank() || index.dim(static_cast<int>(axis)) != rows)
      fail(n.label() + ": levels of " + std::to_string(rows) + " rows do not match axis " + std::to_string(n.i("axis", 0)) + " of " +
           shape_str(index.shape));
    inner = 1;
    for (int k = 0; k < axis; ++k) outer *= index.dim(k);
    for (int k = static_cast<int>(axis) + 1; k < index.rank(); ++k) inner *= index.dim(k);
  }
  Tensor y(DType::F32, index.shape);
  const uint8_t* ix = index.data<uint8_t>();
  const float* lv = levels.data<float>();
  float* py = y.data<float>();
  if (rows == 1 && L <= 16 && codebook_lookup16_supported()) {  // activations: a register permute
    const int64_t N = index.numel(), grain = 16384;
    std::atomic<bool> any_bad{false};
    parallel_for((N + grain - 1) / grain, [&](int64_t c) {
      const int64_t b = c * grain;
      if (!codebook_lookup16_avx512(ix + b, std::min(grain, N - b), lv, L, py + b)) any_bad = true;
    });
    if (any_bad) fail(n.label() + ": an index is outside the " + std::to_string(L) + " levels");
    return y;
  }
  bool bad = false;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = lv + r * L;
      const int64_t base = (o * rows + r) * inner;
      for (int64_t k = 0; k < inner; ++k) {
        const uint8_t i = ix[base + k];
        bad |= i >= L;
        py[base + k] = row[i < L ? i : 0];
      }
    }
  if (bad) fail(n.label() + ": an index is outside the " + std::to_string(L) + " levels");
  return y;
}

Tensor codebook_quantize(const Node& n, const Tensor& x, const Tensor& thresholds, const Tensor* lut) {
  if (x.dtype != DType::F32) fail(n.label() + ": input must be float32");
  if (thresholds.dtype != DType::F32 || thresholds.rank() > 1 || thresholds.numel() > 255)
    fail(n.label() + ": thresholds must be float32 [T] with T <= 255");
  const float* t = thresholds.data<float>();
  const int64_t T = thresholds.numel();
  if (!std::is_sorted(t, t + T)) fail(n.label() + ": thresholds must be ascending");
  if (lut && ((lut->dtype != DType::U8 && lut->dtype != DType::S8) || lut->numel() != T + 1))
    fail(n.label() + ": the lookup table must be uint8 or int8 with one entry per level (" + std::to_string(T + 1) + ")");
  Tensor y(lut ? lut->dtype : DType::U8, x.shape);
  const float* px = x.data<float>();
  uint8_t* py = y.data<uint8_t>();
  uint8_t table[256];
  for (int64_t k = 0; k <= T; ++k) table[k] = lut ? lut->data<uint8_t>()[k] : static_cast<uint8_t>(k);
  const int64_t N = x.numel(), grain = 16384;
  static const bool simd_cpu = codebook_lookup16_supported();
  const bool simd = simd_cpu && active_isa() == Isa::Avx512Vnni;
  parallel_for((N + grain - 1) / grain, [&](int64_t c) {
    const int64_t e = std::min(N, (c + 1) * grain);
    if (T <= 15 && simd) {
      codebook_count16_avx512(px + c * grain, e - c * grain, t, T, table, py + c * grain);
    } else if (T <= 16) {  // a short count, threshold by threshold over 64 values; NaN: level 0
      for (int64_t i0 = c * grain; i0 < e; i0 += 64) {
        const int64_t n = std::min<int64_t>(64, e - i0);
        uint8_t cnt[64] = {};
        for (int64_t k = 0; k < T; ++k)
          for (int64_t i = 0; i < n; ++i) cnt[i] = static_cast<uint8_t>(cnt[i] + (t[k] < px[i0 + i]));
        if (lut)
          for (int64_t i = 0; i < n; ++i) py[i0 + i] = table[cnt[i]];
        else
          std::memcpy(py + i0, cnt, static_cast<size_t>(n));
      }
    } else {
      for (int64_t i = c * grain; i < e; ++i)
        py[i] = table[std::lower_bound(t, t + T, px[i], [](float a, float v) { return a < v; }) - t];
    }
  });
  return y;
}

namespace {
Tensor scalar_f32(float v) {
  Tensor t(DType::F32, {});
  t.data<float>()[0] = v;
  return t;
}

std::string unused_name(const Graph& g, const std::string& base) {
  std::string s = base;
  while (g.constant(s)) s += "_";
  return s;
}

// The step s that puts every value on an integer grid exactly (v == float(q) * s, |q| <= qmax, so a
// DequantizeLinear gives back the very floats): the smallest nonzero magnitude, when it works.
bool exact_step(const float* v, int64_t n, float qmax, float& step) {
  step = 0;
  for (int64_t k = 0; k < n; ++k)
    if (v[k] != 0 && (step == 0 || std::abs(v[k]) < step)) step = std::abs(v[k]);
  if (step == 0) step = 1;
  if (!std::isfinite(step)) return false;
  for (int64_t k = 0; k < n; ++k) {
    const float q = std::nearbyint(v[k] / step);
    if (std::abs(q) > qmax || q * step != v[k]) return false;
  }
  return true;
}

// Weights: per output channel (axis 0) when every reader takes them as a Conv weight or a transposed Gemm
// weight, per tensor otherwise. exact: only when every row has an exact_step (the values do not move).
bool regrid_weights(Graph& g, Node& d, const std::vector<const Node*>& readers, bool exact) {
  Tensor w = codebook_dequantize(d, *g.constant(d.input(0)), *g.constant(d.input(1)));
  if (w.numel() == 0) return false;
  bool per_channel = w.rank() >= 2;
  for (const Node* r : readers)
    per_channel &= r->input(1) == d.outputs[0] && r->input(0) != d.outputs[0] &&
                   (r->op == "Conv" || (r->op == "Gemm" && r->i("transB", 0) == 1));
  const int64_t rows = per_channel ? w.dim(0) : 1, inner = w.numel() / rows;
  Tensor q(DType::S8, w.shape), s(DType::F32, {rows}), zp(DType::S8, {rows});
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = w.data<float>() + r * inner;
    float m = 0;
    for (int64_t k = 0; k < inner; ++k) m = std::max(m, std::abs(row[k]));
    float sc = m > 0 && std::isfinite(m) ? m / 127.f : 1.f;
    if (exact && !exact_step(row, inner, 127.f, sc)) return false;
    s.data<float>()[r] = sc;
    zp.data<int8_t>()[r] = 0;
    for (int64_t k = 0; k < inner; ++k)
      q.data<int8_t>()[r * inner + k] = static_cast<int8_t>(std::max(-127.f, std::min(127.f, std::nearbyint(row[k] / sc))));
  }
  const std::string base = d.input(0);
  const std::string qn = unused_name(g, base + "_qf_int8"), sn = unused_name(g, base + "_qf_scale"), zn = unused_name(g, base + "_qf_zp");
  g.initializers[qn] = std::move(q);
  g.initializers[sn] = per_channel ? std::move(s) : scalar_f32(s.data<float>()[0]);
  if (per_channel) {
    g.initializers[zn] = std::move(zp);
  } else {
    Tensor z(DType::S8, {});
    z.data<int8_t>()[0] = 0;
    g.initializers[zn] = std::move(z);
  }
  d.op = "DequantizeLinear";
  d.inputs = {qn, sn, zn};
  d.attrs.clear();
  d.attrs["axis"].i = 0;
  return true;
}

// Activations: the CodebookQuantize producing the index gets a lookup table onto an 8-bit grid
// (exact: only onto one that holds every level exactly).
bool regrid_activations(Graph& g, Node& q, Node& d, bool exact) {
  const Tensor& lv = *g.constant(d.input(1));
  if (lv.dtype != DType::F32 || lv.rank() != 1 || q.inputs.size() != 2) return false;
  const int64_t L = lv.numel();
  float lo = 0, hi = 0;
  for (int64_t k = 0; k < L; ++k) lo = std::min(lo, lv.data<float>()[k]), hi = std::max(hi, lv.data<float>()[k]);
  if (!std::isfinite(lo) || !std::isfinite(hi)) return false;
  const bool is_unsigned = lo >= 0;
  const float m = std::max(-lo, hi);
  float sc = m > 0 ? m / (is_unsigned ? 255.f : 127.f) : 1.f;
  if (exact && !exact_step(lv.data<float>(), L, is_unsigned ? 255.f : 127.f, sc)) return false;
  Tensor lut(is_unsigned ? DType::U8 : DType::S8, {L}), zp(is_unsigned ? DType::U8 : DType::S8, {});
  zp.bytes[0] = 0;
  for (int64_t k = 0; k < L; ++k) {
    const float v = std::nearbyint(lv.data<float>()[k] / sc);
    if (is_unsigned) lut.data<uint8_t>()[k] = static_cast<uint8_t>(std::min(255.f, v));
    else lut.data<int8_t>()[k] = static_cast<int8_t>(std::max(-127.f, std::min(127.f, v)));
  }
  const std::string ln = unused_name(g, q.name + "_qf_lut"), sn = unused_name(g, q.name + "_qf_scale"), zn = unused_name(g, q.name + "_qf_zp");
  g.initializers[ln] = std::move(lut);
  g.initializers[sn] = scalar_f32(sc);
  g.initializers[zn] = std::move(zp);
  q.inputs.push_back(ln);
  d.op = "DequantizeLinear";
  d.inputs = {d.input(0), sn, zn};
  d.attrs.clear();
  return true;
}
}  // namespace

int codebooks_to_int8(Graph& g, bool exact) {
  std::map<std::string, Node*> producer;
  std::map<std::string, std::vector<const Node*>> readers;
  for (Node& n : g.nodes) {
    for (const auto& o : n.outputs) producer[o] = &n;
    for (const auto& i : n.inputs) readers[i].push_back(&n);
  }
  int changed = 0;
  // Activations first, so that the weights' pass sees which layer inputs became integer.
  for (Node& d : g.nodes) {
    if (d.op != "qf.CodebookDequantize" || !g.constant(d.input(1)) || g.constant(d.input(0))) continue;
    auto p = producer.find(d.input(0));
    if (p == producer.end() || p->second->op != "qf.CodebookQuantize" || readers[d.input(0)].size() != 1) continue;
    if (std::find(g.outputs.begin(), g.outputs.end(), d.input(0)) != g.outputs.end()) continue;
    changed += regrid_activations(g, *p->second, d, exact);
  }
  for (Node& d : g.nodes) {
    if (d.op != "qf.CodebookDequantize" || !g.constant(d.input(1)) || !g.constant(d.input(0))) continue;
    // Only where the layer's input is quantized too: a float input would keep the layer float anyway. In
    // the exact pass a codebook input stays float, so only DequantizeLinear counts there.
    bool quantized_input = !readers[d.outputs.at(0)].empty();
    for (const Node* r : readers[d.outputs.at(0)]) {
      std::string v = r->input(0);
      for (int hops = 0; hops < 16; ++hops) {
        auto p = producer.find(v);
        if (p == producer.end() || !commutes_with_quantization(p->second->op)) break;
        v = p->second->input(0);
      }
      auto p = producer.find(v);
      quantized_input &= p != producer.end() && (p->second->op == "DequantizeLinear" || (!exact && p->second->op == "qf.CodebookDequantize"));
    }
    if (quantized_input) changed += regrid_weights(g, d, readers[d.outputs.at(0)], exact);
  }
  return changed;
}

CodebookMode codebook_mode_from_env() {
  const char* e = std::getenv("QFORGE_RT_CODEBOOK");
  if (!e || !*e || std::strcmp(e, "exact") == 0) return CodebookMode::Exact;
  if (std::strcmp(e, "float") == 0) return CodebookMode::Float;
  if (std::strcmp(e, "int8") == 0) return CodebookMode::Int8;
  fail(std::string("QFORGE_RT_CODEBOOK='") + e + "': expected exact, float or int8");
}

}  // namespace qfrt
