#include "kernels/pool_q.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "kernels/requant.h"

namespace qfrt {

template <class T> void maxpool_plane(const T* x, const PoolGeom& g, T* y) {
  // Integers compare as int32; floats as floats, with -inf for a window that is all padding.
  using Acc = std::conditional_t<std::is_floating_point_v<T>, float, int32_t>;
  const Acc none = std::is_floating_point_v<T> ? -std::numeric_limits<float>::infinity() : std::numeric_limits<int32_t>::min();
  if (g.dh == 1 && g.dw == 1) {
    // Separable, in T itself (its lowest value, or -inf, is the identity of max and what an all-padding window
    // gives): the max over the window's rows for a whole input row, placed in a row padded with that identity,
    // then for each of the kw columns of the window the max over the output row -- both loops contiguous or at
    // the pool's stride, so they vectorize (ResNet-18's 3x3 / 2 stem pool on uint8: 0.63 -> see RESULTS).
    // v > best keeps NaN out.
    const T lowest = std::is_floating_point_v<T> ? static_cast<T>(-std::numeric_limits<float>::infinity()) : std::numeric_limits<T>::lowest();
    thread_local std::vector<T> row;
    const int64_t width = std::max(g.pl + g.W, (g.OW - 1) * g.sw + g.kw);
    row.assign(static_cast<size_t>(width), lowest);
    T* __restrict r = row.data() + g.pl;  // r[w] for input column w; r[-pl .. -1] and past W stay `lowest`
    const T* __restrict rp = row.data();
    const int64_t W = g.W, sw = g.sw, OW = g.OW;
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      const int64_t i0 = std::max<int64_t>(0, oh * g.sh - g.pt), i1 = std::min<int64_t>(g.H, oh * g.sh - g.pt + g.kh);
      for (int64_t w = 0; w < W; ++w) r[w] = lowest;
      for (int64_t ih = i0; ih < i1; ++ih) {
        const T* __restrict xr = x + ih * W;
        for (int64_t w = 0; w < W; ++w) r[w] = xr[w] > r[w] ? xr[w] : r[w];
      }
      T* __restrict out = y + oh * OW;
      for (int64_t ow = 0; ow < OW; ++ow) out[ow] = rp[ow * sw];
      for (int64_t j = 1; j < g.kw; ++j)
        for (int64_t ow = 0; ow < OW; ++ow) out[ow] = rp[ow * sw + j] > out[ow] ? rp[ow * sw + j] : out[ow];
    }
    return;
  }
  for (int64_t oh = 0; oh < g.OH; ++oh)
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      Acc best = none;
      for (int64_t i = 0; i < g.kh; ++i) {
        const int64_t ih = oh * g.sh - g.pt + i * g.dh;
        if (ih < 0 || ih >= g.H) continue;
        for (int64_t j = 0; j < g.kw; ++j) {
          const int64_t iw = ow * g.sw - g.pl + j * g.dw;
          if (iw < 0 || iw >= g.W) continue;
          const Acc v = x[ih * g.W + iw];
          if (v > best) best = v;
        }
      }
      if constexpr (std::is_floating_point_v<T>) y[oh * g.OW + ow] = best;
      else y[oh * g.OW + ow] = best == none ? std::numeric_limits<T>::lowest() : static_cast<T>(best);
    }
}

std::vector<FixedMultiplier> avgpool_multipliers(const PoolGeom& g, double sx, double sy) {
  std::vector<FixedMultiplier> by_count(static_cast<size_t>(g.kh * g.kw + 1));
  for (int64_t c = 1; c <= g.kh * g.kw; ++c) by_count[static_cast<size_t>(c)] = quantize_multiplier(sx / (sy * static_cast<double>(c)));
  return by_count;
}

template <class TI, class TO>
void avgpool_plane(const TI* x, const PoolGeom& g, const std::vector<FixedMultiplier>& by_count, int32_t zx, int32_t zy, TO* y) {
  const int32_t lo = std::numeric_limits<TO>::lowest(), hi = std::numeric_limits<TO>::max();
  for (int64_t oh = 0; oh < g.OH; ++oh)
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      int32_t sum = 0;
      int64_t count = 0;
      for (int64_t i = 0; i < g.kh; ++i) {
        const int64_t ih = oh * g.sh - g.pt + i * g.dh;
        for (int64_t j = 0; j < g.kw; ++j) {
          const int64_t iw = ow * g.sw - g.pl + j * g.dw;
          const bool inside = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
          // count_include_pad counts only the declared pads, not positions past them (ceil_mode).
          const bool in_pads = ih >= -g.pt && ih < g.H + g.pb && iw >= -g.pl && iw < g.W + g.pr;
          if (inside) sum += int32_t{x[ih * g.W + iw]} - zx;
          if (inside || (g.count_include_pad && in_pads)) ++count;
        }
      }
      y[oh * g.OW + ow] = static_cast<TO>(count ? requantize(sum, by_count[static_cast<size_t>(count)], zy, lo, hi) : zy);
    }
}

AddRescale add_rescale(double sa, double sb, double sy) {
  const double ra = sa / sy, rb = sb / sy, rmax = ra > rb ? ra : rb;
  if (!(ra > 0) || !(rb > 0) || !std::isfinite(rmax)) fail("quantized Add: bad scales");
  // rmax <= 2^e, so rmax 2^(30 - e) <= 2^30: both multipliers stay below 2^31. (a - za) has 9 bits, so the
  // sums stay below 2^41 at the largest shift.
  const int e = static_cast<int>(std::ceil(std::log2(rmax)));
  AddRescale r;
  r.shift = std::min(30 - e, 40);
  if (r.shift < 1) fail("quantized Add: input/output scale ratio too large");
  r.ma = std::llround(std::ldexp(ra, r.shift)), r.mb = std::llround(std::ldexp(rb, r.shift));
  return r;
}

void add_q_scalar(const uint8_t* a, bool a_signed, int32_t za, const uint8_t* b, bool b_signed, int32_t zb, const AddRescale& r,
                  int32_t zy, int32_t lo, int32_t hi, uint8_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const int64_t va = a_signed ? int64_t{static_cast<int8_t>(a[i])} : int64_t{a[i]};
    const int64_t vb = b_signed ? int64_t{static_cast<int8_t>(b[i])} : int64_t{b[i]};
    const int64_t v = zy + rshift_round_half_even((va - za) * r.ma + (vb - zb) * r.mb, r.shift);
    y[i] = static_cast<uint8_t>(v < lo ? lo : (v > hi ? hi : v));  // in the output type's range: its low byte
  }
}

void add_q(Isa isa, const uint8_t* a, bool a_signed, int32_t za, const uint8_t* b, bool b_signed, int32_t zb, const AddRescale& r,
           int32_t zy, int32_t lo, int32_t hi, uint8_t* y, int64_t n) {
  if (isa == Isa::Avx512Vnni) return add_q_avx512(a, a_signed, za, b, b_signed, zb, r, zy, lo, hi, y, n);
  add_q_scalar(a, a_signed, za, b, b_signed, zb, r, zy, lo, hi, y, n);
}

template void maxpool_plane<uint8_t>(const uint8_t*, const PoolGeom&, uint8_t*);
template void maxpool_plane<int8_t>(const int8_t*, const PoolGeom&, int8_t*);
template void maxpool_plane<float>(const float*, const PoolGeom&, float*);
#define QF_AVG(TI, TO) \
  template void avgpool_plane<TI, TO>(const TI*, const PoolGeom&, const std::vector<FixedMultiplier>&, int32_t, int32_t, TO*);
QF_AVG(uint8_t, uint8_t)
QF_AVG(uint8_t, int8_t)
QF_AVG(int8_t, uint8_t)
QF_AVG(int8_t, int8_t)

}  // namespace qfrt
