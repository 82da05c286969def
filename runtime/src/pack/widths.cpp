#include "pack/widths.h"

#include <algorithm>
#include <map>

#include "core/error.h"

namespace qfrt {

int wkind_bits(WKind k) {
  switch (k) {
    case WKind::Binary: return 1;
    case WKind::Ternary: return 2;
    case WKind::Int2: return 2;
    case WKind::Int4: return 4;
    case WKind::Pow2: return 4;
    case WKind::Int8: return 8;
  }
  return 8;
}

const char* wkind_name(WKind k) {
  switch (k) {
    case WKind::Binary: return "binary";
    case WKind::Ternary: return "ternary";
    case WKind::Int2: return "int2";
    case WKind::Int4: return "int4";
    case WKind::Pow2: return "pow2";
    case WKind::Int8: return "int8";
  }
  return "int8";
}

bool wkind_from_name(const std::string& s, WKind& k) {
  for (WKind c : {WKind::Binary, WKind::Ternary, WKind::Int2, WKind::Int4, WKind::Pow2, WKind::Int8})
    if (s == wkind_name(c)) {
      k = c;
      return true;
    }
  return false;
}

WKind weight_kind(const Tensor& w, const Tensor* zp) {
  if (w.dtype != DType::S8 || w.numel() == 0) return WKind::Int8;
  bool zero_zp = true;
  if (zp)
    for (int64_t i = 0; i < zp->numel(); ++i) zero_zp &= zp->as_int(i) == 0;
  int lo = 127, hi = -128;
  bool has_zero = false, pow2 = true;
  const int8_t* v = w.data<int8_t>();
  for (int64_t i = 0, n = w.numel(); i < n; ++i) {  // numel once: a ResNet-18 has 11 M weights
    lo = std::min<int>(lo, v[i]);
    hi = std::max<int>(hi, v[i]);
    has_zero |= v[i] == 0;
    pow2 &= pow2_code(v[i]) >= 0;
  }
  if (zero_zp && lo >= -1 && hi <= 1) return has_zero ? WKind::Ternary : WKind::Binary;
  if (lo >= -2 && hi <= 1) return WKind::Int2;
  if (lo >= -8 && hi <= 7) return WKind::Int4;
  return pow2 ? WKind::Pow2 : WKind::Int8;
}

int pow2_code(int8_t x) {
  if (x == 0) return 0;
  const int a = x < 0 ? -x : x;
  if (a > 64 || (a & (a - 1)) != 0) return -1;
  int e = 0;
  while ((1 << e) < a) ++e;
  return (e + 1) | (x < 0 ? 8 : 0);
}

int64_t packed_row_bytes(WKind k, int64_t K) {
  const int64_t per = 8 / wkind_bits(k);
  return (K + per - 1) / per;
}

std::vector<uint8_t> pack_codes(const int8_t* w, int64_t M, int64_t K, WKind k) {
  const int bits = wkind_bits(k), per = 8 / bits;
  const int64_t rb = packed_row_bytes(k, K);
  std::vector<uint8_t> p(static_cast<size_t>(M * rb), 0);
  const unsigned mask = (1u << bits) - 1;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t i = 0; i < K; ++i) {
      const int8_t x = w[m * K + i];
      const unsigned code = k == WKind::Binary ? (x > 0 ? 1u : 0u)
                            : k == WKind::Pow2 ? static_cast<unsigned>(pow2_code(x))
                                               : static_cast<unsigned>(x) & mask;
      p[static_cast<size_t>(m * rb + i / per)] |= static_cast<uint8_t>(code << ((i % per) * bits));
    }
  return p;
}

void unpack_codes(const uint8_t* p, int64_t M, int64_t K, WKind k, int8_t* w) {
  const int bits = wkind_bits(k), per = 8 / bits;
  const int64_t rb = packed_row_bytes(k, K);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t i = 0; i < K; ++i) {
      const int code = (p[m * rb + i / per] >> ((i % per) * bits)) & ((1 << bits) - 1);
      int8_t x;
      if (k == WKind::Binary) x = code ? 1 : -1;
      else if (k == WKind::Pow2) x = (code & 7) == 0 ? 0 : static_cast<int8_t>((code & 8 ? -1 : 1) * (1 << ((code & 7) - 1)));
      else if (k == WKind::Int8) x = static_cast<int8_t>(code);
      else x = static_cast<int8_t>(code >= (1 << (bits - 1)) ? code - (1 << bits) : code);  // sign-extend
      w[m * K + i] = x;
    }
}

int index_bits_from_name(const std::string& kind) {
  for (int b = 1; b <= 7; ++b)
    if (kind == "index" + std::to_string(b)) return b;
  return 0;
}

int64_t packed_index_bytes(int bits, int64_t n) { return (n * bits + 7) / 8; }

std::vector<uint8_t> pack_indices(const uint8_t* idx, int64_t n, int bits) {
  std::vector<uint8_t> p(static_cast<size_t>(packed_index_bytes(bits, n)), 0);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t bit = i * bits;
    const unsigned v = static_cast<unsigned>(idx[i] & ((1u << bits) - 1)) << (bit % 8);  // may straddle two bytes
    p[static_cast<size_t>(bit / 8)] |= static_cast<uint8_t>(v);
    if (v >> 8) p[static_cast<size_t>(bit / 8 + 1)] |= static_cast<uint8_t>(v >> 8);
  }
  return p;
}

void unpack_indices(const uint8_t* p, int64_t n, int bits, uint8_t* idx) {
  const int64_t bytes = packed_index_bytes(bits, n);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t bit = i * bits, b = bit / 8;
    const unsigned two = p[b] | (b + 1 < bytes ? static_cast<unsigned>(p[b + 1]) << 8 : 0u);
    idx[i] = static_cast<uint8_t>((two >> (bit % 8)) & ((1u << bits) - 1));
  }
}

bool is_weight_layer(const Node& n) { return n.op == "QLinearConv" || n.op == "qf.QConvToFloat" || n.op == "qf.QGemm"; }

namespace {
int bits_for(int64_t span) {  // the fewest of 1, 2, 4, 8 bits that hold 0..span
  for (int b : {1, 2, 4})
    if (span < (int64_t{1} << b)) return b;
  return 8;
}
}  // namespace

void annotate_widths(Graph& g) {
  std::map<std::string, const Node*> producer;
  for (const Node& n : g.nodes)
    for (const auto& o : n.outputs) producer[o] = &n;
  // The clamp of an integer value: follow data-moving ops back to the op that quantized it.
  auto range = [&](std::string v, int64_t& lo, int64_t& hi) {
    for (int hops = 0; hops < 64; ++hops) {
      auto it = producer.find(v);
      if (it == producer.end()) return false;
      const Node& p = *it->second;
      if (p.op == "MaxPool" || p.op == "GlobalMaxPool" || p.op == "Flatten" || p.op == "Reshape" || p.op == "Identity" ||
          p.op == "Dropout" || p.op == "qf.QAveragePool") {
        v = p.input(0);  // these keep values inside the input's range
        continue;
      }
      if (p.op == "qf.CodebookQuantize" && p.inputs.size() == 3) {  // a codebook on an integer grid: its lookup table
        const Tensor* lut = g.constant(p.input(2));
        if (!lut || lut->numel() == 0 || (lut->dtype != DType::U8 && lut->dtype != DType::S8)) return false;
        lo = 255, hi = -128;
        for (int64_t k = 0; k < lut->numel(); ++k) {
          const int64_t v = lut->dtype == DType::S8 ? lut->data<int8_t>()[k] : lut->data<uint8_t>()[k];
          lo = std::min(lo, v), hi = std::max(hi, v);
        }
        return true;
      }
      if (p.op != "QuantizeLinear" && p.op != "QLinearConv" && p.op != "qf.QGemm" && p.op != "qf.QAdd") return false;
      const std::string zname = p.op == "QuantizeLinear" ? p.input(2) : p.input(7);  // y_zero_point
      const Tensor* z = zname.empty() ? nullptr : g.constant(zname);
      const bool s8 = z && z->dtype == DType::S8;
      lo = p.i("qf_lo", s8 ? -128 : 0);
      hi = p.i("qf_hi", s8 ? 127 : 255);
      return lo <= hi;
    }
    return false;
  };
  for (Node& n : g.nodes) {
    if (!is_weight_layer(n)) continue;
    const Tensor* w = g.constant(n.input(3));
    if (!w || w->dtype != DType::S8) continue;
    const WKind k = weight_kind(*w, n.input(5).empty() ? nullptr : g.constant(n.input(5)));
    n.attrs["qf_w_bits"].i = k == WKind::Pow2 ? 8 : wkind_bits(k);  // the width the kernels compute at
    Attr kind;
    kind.kind = Attr::String;
    kind.s = wkind_name(k);
    n.attrs["qf_w_kind"] = kind;
    int64_t lo = 0, hi = 255;
    if (range(n.input(0), lo, hi)) {
      n.attrs["qf_x_bits"].i = bits_for(hi - lo);
      n.attrs["qf_x_lo"].i = lo;
      n.attrs["qf_x_hi"].i = hi;
    } else {
      n.attrs.erase("qf_x_bits");
      n.attrs.erase("qf_x_lo");
      n.attrs.erase("qf_x_hi");
    }
  }
}

}  // namespace qfrt
