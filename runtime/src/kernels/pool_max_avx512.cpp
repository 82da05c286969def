// AVX-512 max pooling of u8 / s8 planes (pool_q.h): the separable form of maxpool_plane, 64 bytes a step.
// Rows: the max over the window's input rows, into a row buffer padded with the type's lowest value; columns:
// for each of the kw taps the max over 64 outputs -- at stride 2 the taps' bytes are the even bytes of two
// loads, picked by one vpermt2b (VBMI). The compiler-vectorized loops managed ~1 ns per input byte on
// ResNet-18's 3x3 / 2 stem pool (as long as a 3x3 conv layer after it), the strided column loop not vectorizing.
#include <immintrin.h>

#include <algorithm>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels/byte_lanes.h"
#include "kernels/pool_q.h"

namespace qfrt {

namespace {
#define QF_POOL_TARGET __attribute__((target("avx512f,avx512bw,avx512vbmi")))

template <bool Signed> QF_POOL_TARGET inline __m512i vmax(__m512i a, __m512i b) {
  return Signed ? _mm512_max_epi8(a, b) : _mm512_max_epu8(a, b);
}

template <class T, int SW> QF_POOL_TARGET void pool_plane(const T* xt, const PoolGeom& g, T* yt) {
  constexpr bool S = std::is_signed_v<T>;
  const uint8_t* x = reinterpret_cast<const uint8_t*>(xt);
  uint8_t* y = reinterpret_cast<uint8_t*>(yt);
  const __m512i low = _mm512_set1_epi8(static_cast<char>(std::numeric_limits<T>::lowest()));
  // Column steps read up to SW * 64 + kw bytes past their first tap; the buffer covers them with `lowest`.
  const int64_t OW = g.OW, W = g.W, kw = g.kw, steps = (OW + 63) / 64;
  thread_local std::vector<uint8_t> row;
  row.assign(static_cast<size_t>(std::max(g.pl + W, SW * 64 * steps + kw) + 128), static_cast<uint8_t>(std::numeric_limits<T>::lowest()));
  uint8_t* r = row.data() + g.pl;  // r[w]: input column w; r[-pl .. -1] and r[W ..] stay `lowest`
  const uint8_t* rp = row.data();  // rp[ow * SW + j]: tap j of output column ow
  alignas(64) uint8_t evens[64];
  for (int i = 0; i < 64; ++i) evens[i] = static_cast<uint8_t>(2 * i);  // lane i: byte 2 i of a || b
  const __m512i pick = _mm512_load_si512(evens);
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    const int64_t i0 = std::max<int64_t>(0, oh * g.sh - g.pt), i1 = std::min<int64_t>(g.H, oh * g.sh - g.pt + g.kh);
    for (int64_t w = 0; w < W; w += 64) {
      const __mmask64 k = byte_lanes(0, W - w);
      __m512i v = low;
      for (int64_t ih = i0; ih < i1; ++ih) v = vmax<S>(v, _mm512_mask_loadu_epi8(low, k, x + ih * W + w));
      _mm512_mask_storeu_epi8(r + w, k, v);
    }
    uint8_t* out = y + oh * OW;
    for (int64_t ow0 = 0; ow0 < OW; ow0 += 64) {
      __m512i m = low;
      for (int64_t j = 0; j < kw; ++j) {
        const uint8_t* p = rp + SW * ow0 + j;
        if (SW == 1) {
          m = vmax<S>(m, _mm512_loadu_si512(p));
        } else {
          m = vmax<S>(m, _mm512_permutex2var_epi8(_mm512_loadu_si512(p), pick, _mm512_loadu_si512(p + 64)));
        }
      }
      _mm512_mask_storeu_epi8(out + ow0, byte_lanes(0, OW - ow0), m);
    }
  }
}
}  // namespace

template <class T> bool maxpool_plane_avx512(const T* x, const PoolGeom& g, T* y) {
  if (g.dh != 1 || g.dw != 1 || g.kw > 64 || !cpu_has_avx512vbmi()) return false;
  if (g.sw == 1) return pool_plane<T, 1>(x, g, y), true;
  if (g.sw == 2) return pool_plane<T, 2>(x, g, y), true;
  return false;
}
template bool maxpool_plane_avx512<uint8_t>(const uint8_t*, const PoolGeom&, uint8_t*);
template bool maxpool_plane_avx512<int8_t>(const int8_t*, const PoolGeom&, int8_t*);

}  // namespace qfrt
