// AVX-512 packing of channel bit planes: one dword gather takes 4 pixels of 16 channels, a byte test per
// plane gives their 64 bits (bit 4l + j: channel l, pixel j), and pext pulls each pixel's 16 channel
// bits out of that -- a bit transpose at ~1 instruction per 16 bits.
// GCC 12's AVX-512 headers trip -Wuninitialized on _mm512_undefined (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/channel_bits.h"

#define QF_PACKBITS __attribute__((target("avx512f,avx512bw,bmi2,popcnt")))

namespace qfrt {

QF_PACKBITS void pack_channel_bits_avx512(const uint8_t* x, int64_t C, int64_t HW, bool x_signed, uint8_t lo, int planes, bool xnor,
                                          uint64_t* out, int32_t* pixpop) {
  const int64_t G = (C + 63) / 64;
  const int P = xnor ? 2 : planes;
  if (P > 4 || HW * 16 > INT32_MAX) return pack_channel_bits_scalar(x, C, HW, x_signed, lo, planes, xnor, out, pixpop);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(x_signed ? 0x80 : 0)), vlo = _mm512_set1_epi8(static_cast<char>(lo));
  const __m512i zero = _mm512_setzero_si512();
  const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                         _mm512_set1_epi32(static_cast<int>(HW)));
  constexpr uint64_t kLane0 = 0x1111111111111111ull;  // bit 0 of each 4-bit lane group
  int64_t p = 0;
  for (; p + 4 <= HW; p += 4) {
    for (int64_t grp = 0; grp < G; ++grp) {
      uint64_t word[4][4] = {};  // [pixel j][plane i]
      for (int r = 0; r < 4; ++r) {
        const int64_t c0 = grp * 64 + r * 16, nc = C - c0 < 16 ? C - c0 : 16;
        if (nc <= 0) break;
        const __mmask16 lanes = nc == 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << nc) - 1);
        const uint64_t bytes = nc == 16 ? ~uint64_t{0} : (uint64_t{1} << (nc * 4)) - 1;  // the gathered channels' bytes
        const __m512i v = _mm512_mask_i32gather_epi32(zero, lanes, idx, x + c0 * HW + p, 1);
        const __m512i u = _mm512_sub_epi8(_mm512_xor_si512(v, flip), vlo);
        uint64_t m[4];
        if (xnor) {
          m[0] = _mm512_cmpgt_epi8_mask(u, zero) & bytes;
          m[1] = _mm512_test_epi8_mask(u, u) & bytes;
        } else {
          for (int i = 0; i < P; ++i) m[i] = _mm512_test_epi8_mask(u, _mm512_set1_epi8(static_cast<char>(1 << i))) & bytes;
        }
        for (int j = 0; j < 4; ++j)
          for (int i = 0; i < P; ++i) word[j][i] |= _pext_u64(m[i], kLane0 << j) << (16 * r);
      }
      for (int j = 0; j < 4; ++j)
        for (int i = 0; i < P; ++i) out[((p + j) * G + grp) * P + i] = word[j][i];
    }
    if (pixpop)
      for (int j = 0; j < 4; ++j) pixpop[p + j] = word_pop(out + (p + j) * G * P, G, P, xnor);
  }
  if (p < HW) pack_channel_bits_pixels(x, C, HW, p, HW, x_signed, lo, planes, xnor, out, pixpop);
}

}  // namespace qfrt
