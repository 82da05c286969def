// Channel-packed bit-serial convolution: instead of an im2col panel of bytes (K bytes per output pixel)
// from which each column's bit planes are then gathered, the input is packed once into bit planes along
// channels -- word (p, g, i) holds bit i of channels 64g .. 64g+63 at pixel p -- and a column's planes
// are those words copied from the kh x kw pixels it reads, in the order (ky, kx, g). The weights are
// reordered to match. The bytes touched per layer drop from ~K x pixels to ~C x pixels / 8 x planes,
// which is what kept whole bit-serial layers near the int8 layer's time (qforge-rt-bench-lowbit).
//
// The sums are those of the panel path exactly (same planes, same popcounts, only in another order):
// channels past C are zero bits (and 0 weights; binary weights, which have no 0, get rowsums of the
// real channels), and pixels outside the image are the padding value's bits, as in the panel.
#pragma once
#include <climits>
#include <cstdint>

#include "kernels/bitserial.h"
#include "kernels/pack_panel.h"
#include "kernels/qlayer.h"

namespace qfrt {

// x [C][HW] bytes (int8 when x_signed, read as x ^ 0x80) -> out [HW][G][planes] words, G = ceil(C / 64).
// planes bit i of (x - lo) for i < planes; xnor: 2 planes, (x - lo > 0) and (x != lo) as int8 differences.
// pixpop (nullable) [HW]: each pixel's word_pop, which bit_im2col sums into a column's count.
void pack_channel_bits(Isa isa, const uint8_t* x, int64_t C, int64_t HW, bool x_signed, uint8_t lo, int planes, bool xnor,
                       uint64_t* out, int32_t* pixpop);
// Pixels p0 .. p1 - 1 only (the AVX-512 kernel's tail).
void pack_channel_bits_pixels(const uint8_t* x, int64_t C, int64_t HW, int64_t p0, int64_t p1, bool x_signed, uint8_t lo, int planes,
                              bool xnor, uint64_t* out, int32_t* pixpop);
void pack_channel_bits_scalar(const uint8_t* x, int64_t C, int64_t HW, bool x_signed, uint8_t lo, int planes, bool xnor, uint64_t* out,
                              int32_t* pixpop);
void pack_channel_bits_avx512(const uint8_t* x, int64_t C, int64_t HW, bool x_signed, uint8_t lo, int planes, bool xnor, uint64_t* out,
                              int32_t* pixpop);
// BitActs::colpop's measure of one pixel's G x planes words: sum of 2^i popcount(plane i), XNOR: popcount(Z).
// Inline, so that the AVX-512 packing (built with popcnt) counts with the instruction, not a libgcc call.
inline int32_t word_pop(const uint64_t* w, int64_t G, int planes, bool xnor) {
  int32_t pop = 0;
  for (int64_t grp = 0; grp < G; ++grp)
    for (int i = 0; i < planes; ++i)
      if (!xnor) pop += static_cast<int32_t>(__builtin_popcountll(w[grp * planes + i])) << i;
      else if (i == 1) pop += static_cast<int32_t>(__builtin_popcountll(w[grp * planes + i]));
  return pop;
}

// The activation planes (bitserial.h's BitActs, K = kh * kw * G * 64, or kh * kw * C rounded up to 64 in the
// dense form) of output pixels col0 .. col0 + cols
// from one image's packed words cb [HW][G][planes]. pad_words [G][planes]: the words of a pixel outside
// the image. pixpop (nullable; only binary weights use BitActs::colpop): pack_channel_bits' pixel counts.
void bit_im2col(const uint64_t* cb, const int32_t* pixpop, const ConvGeom& g, int64_t G, int planes, bool xnor, const uint64_t* pad_words,
                int64_t col0, int64_t cols, BitActs& a);

// Whether the path takes C input channels: when at most 1/4 of the bits go to the rounding up to 64, or
// when C divides 64, so that 64 / C kernel taps share a word (the dense form: K ordered (ky, kx, c)
// without gaps, rounded up to 64 once).
inline bool channel_bits_dense(int64_t C) { return C > 0 && C < 64 && 64 % C == 0; }
inline bool channel_bits_worth(int64_t C) { return channel_bits_dense(C) || (C > 0 && (C + 63) / 64 * 64 * 4 <= C * 5); }

// After enable_bitserial / enable_xnor on a conv with C input channels and a kh x kw kernel: also
// prepare the channel-ordered weights (QLayer::cbits). Only for groups of 1, weight zero points 0,
// and channel counts that waste at most 1/4 of the bits on the rounding to 64.
void enable_channel_bits(QLayer& L, int64_t C, int64_t kh, int64_t kw);
// QFORGE_RT_CHANNEL_BITS=0 turns the path off (to compare); auto mode then keeps the panel path's limits.
bool channel_bits_enabled();
// Whether qconv_run takes this path for g.
bool channel_bits_fits(const QLayer& L, const ConvGeom& g);
// qconv_run's path for such layers (same arguments).
void channel_bits_conv_run(Isa isa, const QLayer& L, const ConvGeom& g, int64_t N, const uint8_t* x, void* y, const float* residual,
                           uint8_t* yq);

}  // namespace qfrt
