// Depthwise with the requantization fused (depthwise.h, DwFusedPlan): the VBMI kernel's step -- per kernel
// row one 64-byte load, one vpermb per 4 taps gathering each output's bytes, one vpdpbusd -- followed by
// requant16 (requant_avx512.h) in registers and a 16-byte store.
// Neither way copies the plane: the zero point comes in by masks where a window leaves the input. Before, a
// plane was copied into a padded buffer, its int32 sums stored, and a separate epilogue call set up its
// constants and read them back: in MobileNetV2 at batch 32 the padding alone cost 9% of the run.
// GCC 12 warns inside its own intrinsics (intentionally undefined registers).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <utility>

#include "kernels/byte_lanes.h"
#include "kernels/depthwise.h"
#include "kernels/requant_avx512.h"

namespace qfrt {

namespace {
constexpr int64_t kMaxGroups = 2;   // kernel widths up to 8
constexpr int64_t kMaxKernelRows = 64;

// The vpermb indices of one step: lane t's 4 bytes for taps 4q .. 4q+3 of a kernel row, from rel[t] (the
// offset of the lane's tap 0 from the step's base); taps past kw read byte 0 against a weight of 0.
void put_indices(const int64_t* rel, int64_t n, const DwGeom& g, int64_t q, uint8_t* b) {
  for (int64_t t = 0; t < 16; ++t)
    for (int64_t k = 0; k < 4; ++k) {
      const int64_t j = 4 * q + k;
      b[4 * t + k] = static_cast<uint8_t>(t < n && j < g.kw ? rel[t] + j * g.dw : 0);
    }
}
}  // namespace

bool make_dw_fused_plan(const DwGeom& g, int64_t H, int64_t W, int64_t pt, int64_t pl, DwFusedPlan* plan) {
  if (!cpu_has_avx512vbmi() || g.kw > 4 * kMaxGroups || g.kh > kMaxKernelRows || g.OH <= 0 || g.OW <= 0) return false;
  DwFusedPlan p;
  p.g = g, p.H = H, p.W = W, p.pt = pt, p.pl = pl;
  p.groups = (g.kw + 3) / 4;
  const int64_t span = (g.kw - 1) * g.dw;  // bytes past a lane's tap 0 that its row reads
  if (g.OW < 16) {
    // Flat steps: outputs 16 s .. 16 s + 15 of the flattened plane, wherever each step's bytes fit one load.
    // Lane t's tap (i, j) is input byte (oh_t sh + i dh - pt) W + ow_t sw + j dw - pl: relative to lane 0 the
    // same for every kernel row, so one index vector per step serves all of them; which bytes fall outside the
    // input (and take the zero point) depends on the row.
    const int64_t total = g.OH * g.OW, steps = (total + 15) / 16;
    bool fits = true;
    for (int64_t s = 0; s < steps && fits; ++s) {
      const int64_t p0 = 16 * s, n = std::min<int64_t>(16, total - p0);
      int64_t rel[16], lo = 0, hi = 0;
      for (int64_t t = 0; t < n; ++t) {
        const int64_t o = p0 + t;
        rel[t] = (o / g.OW - p0 / g.OW) * g.sh * W + (o % g.OW - p0 % g.OW) * g.sw;
        lo = std::min(lo, rel[t]), hi = std::max(hi, rel[t]);
      }
      fits &= hi - lo + span <= 63;
      for (int64_t t = 0; t < n; ++t) rel[t] -= lo;
      for (int64_t q = 0; q < p.groups; ++q) {
        p.idx.resize(p.idx.size() + 64);
        put_indices(rel, n, g, q, p.idx.data() + p.idx.size() - 64);
      }
      for (int64_t i = 0; i < g.kh; ++i) {
        const int64_t start = (p0 / g.OW * g.sh + i * g.dh - pt) * W + p0 % g.OW * g.sw - pl + lo;
        p.base.push_back(start);
        p.masks.push_back(byte_lanes(-start, H * W - start));
        for (int64_t q = 0; q < p.groups; ++q) {
          uint64_t v = 0;
          for (int64_t t = 0; t < 16; ++t)
            for (int64_t k = 0; k < 4; ++k) {
              const int64_t o = p0 + t, j = 4 * q + k;
              const int64_t ih = o / g.OW * g.sh + i * g.dh - pt, iw = o % g.OW * g.sw + j * g.dw - pl;
              const bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
              if (t >= n || j >= g.kw || inside) v |= uint64_t{1} << (4 * t + k);  // the others: no weight, or not stored
            }
          p.valid.push_back(v);
        }
      }
    }
    if (fits) {
      p.flat = true;
      *plan = std::move(p);
      return true;
    }
    p.base.clear(), p.idx.clear(), p.masks.clear(), p.valid.clear();
  }
  // Rows: one 64-byte load from column ow0 * sw - pl must hold every byte of 16 outputs.
  if (15 * g.sw + span > 63) return false;
  int64_t rel[16];
  for (int64_t t = 0; t < 16; ++t) rel[t] = t * g.sw;
  p.idx.resize(static_cast<size_t>(64 * p.groups));
  for (int64_t q = 0; q < p.groups; ++q) put_indices(rel, 16, g, q, p.idx.data() + 64 * q);
  for (int64_t ow0 = 0; ow0 < g.OW; ow0 += 16) {
    const int64_t col0 = ow0 * g.sw - pl;
    p.masks.push_back(byte_lanes(-col0, W - col0));
  }
  *plan = std::move(p);
  return true;
}

namespace {
#define QF_DW_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512vbmi")))

// The local copies keep the geometry in registers: the byte stores to y may alias anything, so fields read
// through the plan would be reloaded after every store.
template <int NG, bool Flip>
QF_DW_TARGET void flat_steps(const DwFusedPlan& p, const uint8_t* x, uint8_t pad, uint8_t flip, const int32_t* wq, const RequantRow& rq,
                             uint8_t* y) {
  const int64_t kh = p.g.kh, total = p.g.OH * p.g.OW, steps = (total + 15) / 16;
  const int64_t* base = p.base.data();
  const uint64_t *in = p.masks.data(), *valid = p.valid.data();
  const uint8_t* ix = p.idx.data();
  const __m512i vpad = _mm512_set1_epi8(static_cast<char>(pad)), vflip = _mm512_set1_epi8(static_cast<char>(flip));
  for (int64_t s = 0; s < steps; ++s, ix += 64 * NG) {
    __m512i acc = _mm512_setzero_si512();
    for (int64_t i = 0; i < kh; ++i, ++base, ++in, valid += NG) {
      __m512i v = _mm512_maskz_loadu_epi8(*in, x + *base);  // bytes outside the plane: neither read nor used
      if (Flip) v = _mm512_xor_si512(v, vflip);
      for (int q = 0; q < NG; ++q)
        acc = _mm512_dpbusd_epi32(acc, _mm512_mask_permutexvar_epi8(vpad, valid[q], _mm512_loadu_si512(ix + 64 * q), v),
                                  _mm512_set1_epi32(wq[i * NG + q]));
    }
    const __mmask16 live = lanes16(total - 16 * s);
    _mm512_mask_cvtepi32_storeu_epi8(y + 16 * s, live, requant16(rq, acc, live));
  }
}

// Flip: int8 input (bytes ^ 0x80 are its uint8 values); unsigned inputs (after a ReLU, most of MobileNetV2's)
// skip that xor, one of the five vector ops per kernel row.
template <int NG, bool Flip>
QF_DW_TARGET void row_steps(const DwFusedPlan& p, const uint8_t* x, uint8_t pad, uint8_t flip, const int32_t* wq, const RequantRow& rq,
                            uint8_t* y) {
  const int64_t OH = p.g.OH, OW = p.g.OW, kh = p.g.kh, sh = p.g.sh, sw = p.g.sw, dh = p.g.dh, H = p.H, W = p.W, pt = p.pt, pl = p.pl;
  const uint64_t* masks = p.masks.data();
  const __m512i vpad = _mm512_set1_epi8(static_cast<char>(pad)), vflip = _mm512_set1_epi8(static_cast<char>(flip));
  const __m512i pf = _mm512_xor_si512(vpad, vflip);  // masked-off lanes: pad ^ flip ^ flip = pad
  __m512i idx[NG];
  for (int q = 0; q < NG; ++q) idx[q] = _mm512_loadu_si512(p.idx.data() + 64 * q);
  for (int64_t oh = 0; oh < OH; ++oh) {
    uint8_t* yr = y + oh * OW;
    for (int64_t ow0 = 0, b = 0; ow0 < OW; ow0 += 16, ++b) {
      const __mmask64 in = masks[b];
      const uint8_t* col = x + (ow0 * sw - pl);  // lanes outside `in` neither read nor fault
      __m512i acc = _mm512_setzero_si512();
      for (int64_t i = 0; i < kh; ++i) {
        const int64_t ih = oh * sh + i * dh - pt;
        __m512i v = vpad;
        if (ih >= 0 && ih < H) {
          v = _mm512_mask_loadu_epi8(pf, in, col + ih * W);
          if (Flip) v = _mm512_xor_si512(v, vflip);
        }
        for (int q = 0; q < NG; ++q)
          acc = _mm512_dpbusd_epi32(acc, _mm512_permutexvar_epi8(idx[q], v), _mm512_set1_epi32(wq[i * NG + q]));
      }
      const __mmask16 live = lanes16(OW - ow0);
      _mm512_mask_cvtepi32_storeu_epi8(yr + ow0, live, requant16(rq, acc, live));
    }
  }
}
}  // namespace

QF_DW_TARGET void depthwise_fused_plane(const DwFusedPlan& p, const uint8_t* x, const int8_t* w, uint8_t pad, uint8_t flip,
                                        const RequantRowParams& params, uint8_t* y) {
  const DwGeom& g = p.g;
  const int64_t ng = p.groups;
  const RequantRow rq = requant_consts(params);
  int32_t wq[kMaxKernelRows * kMaxGroups];  // kernel row i, group q: its 4 weights as one dword, built in a
  for (int64_t i = 0; i < g.kh; ++i)        // register (bytes stored then read as a dword stall the load)
    for (int64_t q = 0; q < ng; ++q) {
      uint32_t d = 0;
      for (int64_t k = 0; k < 4; ++k)
        if (4 * q + k < g.kw) d |= uint32_t{static_cast<uint8_t>(w[i * g.kw + 4 * q + k])} << (8 * k);
      wq[i * ng + q] = static_cast<int32_t>(d);
    }
  if (p.flat) {
    if (flip) ng == 1 ? flat_steps<1, true>(p, x, pad, flip, wq, rq, y) : flat_steps<2, true>(p, x, pad, flip, wq, rq, y);
    else ng == 1 ? flat_steps<1, false>(p, x, pad, flip, wq, rq, y) : flat_steps<2, false>(p, x, pad, flip, wq, rq, y);
  } else {
    if (flip) ng == 1 ? row_steps<1, true>(p, x, pad, flip, wq, rq, y) : row_steps<2, true>(p, x, pad, flip, wq, rq, y);
    else ng == 1 ? row_steps<1, false>(p, x, pad, flip, wq, rq, y) : row_steps<2, false>(p, x, pad, flip, wq, rq, y);
  }
}

}  // namespace qfrt
