// SIMD depthwise: 16 (AVX-512) or 8 (AVX2) output pixels of a row at a time, one tap per step:
// widen the u8 inputs to int32, multiply by the broadcast weight, add. Stride 2 (AVX-512) loads
// 32 contiguous bytes and keeps the even ones. With VBMI and VNNI (Ice Lake, Zen 4), a kernel row's
// taps go four at a time: one vpermb gathers, for each of 16 output pixels, the 4 input bytes those
// taps read, and one vpdpbusd multiplies them by the 4 weights and adds (3x fewer instructions at 3x3).
// GCC 12 warns inside its own _mm512_cvtepu8_epi32 (an intentionally undefined register).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/byte_lanes.h"
#include "kernels/depthwise.h"

namespace qfrt {

namespace {
constexpr int64_t kVbmiMaxGroups = 2;  // kernel widths up to 8
}  // namespace

// Every byte one 16-pixel step reads lies within one 64-byte load from the row's first tap.
bool depthwise_vbmi_supported(const DwGeom& g) {
  return cpu_has_avx512vbmi() && g.kw <= 4 * kVbmiMaxGroups && g.kh <= 64 && 15 * g.sw + (g.kw - 1) * g.dw <= 63;
}

__attribute__((target("avx512f,avx512bw,avx512vnni,avx512vbmi"))) void depthwise_avx512vbmi(const uint8_t* xp, const int8_t* w,
                                                                                             const DwGeom& g, int32_t* acc) {
  const int64_t ng = (g.kw + 3) / 4;
  __m512i idx[kVbmiMaxGroups];
  for (int64_t q = 0; q < ng; ++q) {
    alignas(64) uint8_t b[64];
    for (int t = 0; t < 16; ++t)
      for (int k = 0; k < 4; ++k) {
        const int64_t j = 4 * q + k;
        b[4 * t + k] = static_cast<uint8_t>(j < g.kw ? t * g.sw + j * g.dw : 0);  // tap past kw: weight 0
      }
    idx[q] = _mm512_load_si512(b);
  }
  int32_t wq[64 * kVbmiMaxGroups];  // row i, group q: 4 weights as one dword (kh <= 64: supported())
  for (int64_t i = 0; i < g.kh; ++i)
    for (int64_t q = 0; q < ng; ++q) {
      uint8_t b[4];
      for (int k = 0; k < 4; ++k) b[k] = static_cast<uint8_t>(4 * q + k < g.kw ? w[i * g.kw + 4 * q + k] : 0);
      __builtin_memcpy(&wq[i * ng + q], b, 4);
    }
  for (int64_t oh = 0; oh < g.OH; ++oh)
    for (int64_t ow = 0; ow < g.OW; ow += 16) {
      const int64_t n = g.OW - ow < 16 ? g.OW - ow : 16;
      __m512i s = _mm512_setzero_si512();
      for (int64_t i = 0; i < g.kh; ++i) {
        const __m512i v = _mm512_loadu_si512(xp + (oh * g.sh + i * g.dh) * g.Wp + ow * g.sw);
        for (int64_t q = 0; q < ng; ++q)
          s = _mm512_dpbusd_epi32(s, _mm512_permutexvar_epi8(idx[q], v), _mm512_set1_epi32(wq[i * ng + q]));
      }
      _mm512_mask_storeu_epi32(acc + oh * g.OW + ow, static_cast<__mmask16>((1u << n) - 1), s);
    }
}

namespace {
__attribute__((target("avx512f,avx512bw"))) void fill_avx512(uint8_t* d, int64_t n, __m512i p) {
  for (int64_t b = 0; b < n; b += 64) _mm512_mask_storeu_epi8(d + b, byte_lanes(0, n - b), p);
}
}  // namespace

// Row h of the plane in 64-byte pieces: piece bytes [b, b + 64) of the row take input bytes b - pl .. where
// they fall inside [pl, pl + W) (a masked load: the lanes outside neither read nor fault) and pad elsewhere.
__attribute__((target("avx512f,avx512bw"))) void pad_plane_avx512(const uint8_t* x, int64_t H, int64_t W, int64_t pt, int64_t pl,
                                                                   const DwGeom& g, uint8_t pad, uint8_t flip, uint8_t* xp) {
  const __m512i p = _mm512_set1_epi8(static_cast<char>(pad)), f = _mm512_set1_epi8(static_cast<char>(flip)), pf = _mm512_xor_si512(p, f);
  fill_avx512(xp, pt * g.Wp, p);
  for (int64_t h = 0; h < H; ++h) {
    uint8_t* row = xp + (h + pt) * g.Wp;
    const uint8_t* src = x + h * W - pl;  // byte b of the row reads src[b] when pl <= b < pl + W
    for (int64_t b = 0; b < g.Wp; b += 64) {
      const __mmask64 in = byte_lanes(pl - b, pl + W - b), out = byte_lanes(0, g.Wp - b);
      const __m512i v = _mm512_xor_si512(_mm512_mask_loadu_epi8(pf, in, src + b), f);  // pad ^ flip ^ flip = pad
      _mm512_mask_storeu_epi8(row + b, out, v);
    }
  }
  fill_avx512(xp + (pt + H) * g.Wp, (g.Hp - pt - H) * g.Wp + kDepthwiseSlack, p);
}

__attribute__((target("avx512f,avx512bw"))) void depthwise_avx512(const uint8_t* xp, const int8_t* w, const DwGeom& g,
                                                                   int32_t* acc) {
  if (g.sw != 1 && g.sw != 2) return depthwise_scalar(xp, w, g, acc);
  const __m512i even = _mm512_set1_epi32(0xFFFF);
  for (int64_t oh = 0; oh < g.OH; ++oh)
    for (int64_t ow = 0; ow < g.OW; ow += 16) {
      const int64_t n = g.OW - ow < 16 ? g.OW - ow : 16;
      __m512i s = _mm512_setzero_si512();
      for (int64_t i = 0; i < g.kh; ++i) {
        const uint8_t* row = xp + (oh * g.sh + i * g.dh) * g.Wp + ow * g.sw;
        for (int64_t j = 0; j < g.kw; ++j) {
          const uint8_t* p = row + j * g.dw;
          __m512i x;
          if (g.sw == 1)
            x = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
          else
            x = _mm512_and_si512(_mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), even);
          s = _mm512_add_epi32(s, _mm512_mullo_epi32(x, _mm512_set1_epi32(w[i * g.kw + j])));
        }
      }
      _mm512_mask_storeu_epi32(acc + oh * g.OW + ow, static_cast<__mmask16>((1u << n) - 1), s);
    }
}

__attribute__((target("avx2"))) void depthwise_avx2(const uint8_t* xp, const int8_t* w, const DwGeom& g, int32_t* acc) {
  if (g.sw != 1) return depthwise_scalar(xp, w, g, acc);
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    int64_t ow = 0;
    for (; ow + 8 <= g.OW; ow += 8) {
      __m256i s = _mm256_setzero_si256();
      for (int64_t i = 0; i < g.kh; ++i) {
        const uint8_t* row = xp + (oh * g.sh + i * g.dh) * g.Wp + ow;
        for (int64_t j = 0; j < g.kw; ++j) {
          const __m256i x = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + j * g.dw)));
          s = _mm256_add_epi32(s, _mm256_mullo_epi32(x, _mm256_set1_epi32(w[i * g.kw + j])));
        }
      }
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + oh * g.OW + ow), s);
    }
    for (; ow < g.OW; ++ow) {
      int32_t s = 0;
      for (int64_t i = 0; i < g.kh; ++i)
        for (int64_t j = 0; j < g.kw; ++j) s += int32_t{w[i * g.kw + j]} * int32_t{xp[(oh * g.sh + i * g.dh) * g.Wp + ow + j * g.dw]};
      acc[oh * g.OW + ow] = s;
    }
  }
}

}  // namespace qfrt
