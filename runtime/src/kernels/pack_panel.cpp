// Panel packing in two steps: (1) classic im2col rows, B[k][col] for this chunk of columns,
// contiguous runs copied with memcpy; (2) an interleave of 4 rows x 16 columns into the 64-byte
// groups vpdpbusd reads (SSE2 byte/word unpacks, so every x86-64 runs it; four blocks at a time in AVX-512
// where the CPU has it).
// GCC 12 warns inside its own intrinsics (intentionally undefined registers).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/pack_panel.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/buffer.h"
#include "core/cpu.h"
#include "kernels/gemm.h"

namespace qfrt {

namespace {
// rows [Kp][ld] (ld = 16 * nb, rows >= K zero) -> panel. Each output group: 16 columns x 4 k.
// Four blocks (64 columns) at a time in AVX-512: the same byte / word unpacks within each 128-bit lane, then a
// 4 x 4 transpose of the lanes (lane l of the unpacks is block l). 24 instructions per 256 panel bytes where
// the SSE form takes 64 (MobileNetV2 at batch 32: the interleave was 7.6% of a run). Returns the blocks done.
// flip: xored into every byte (0x80: int8 rows become the uint8 values the GEMM reads).
__attribute__((target("avx512f,avx512bw"))) int64_t interleave_avx512(const uint8_t* rows, int64_t Kp, int64_t nb, int64_t ld,
                                                                       uint8_t* panel, uint8_t flip) {
  const int64_t nb4 = nb / 4 * 4;
  const __m512i f = _mm512_set1_epi8(static_cast<char>(flip));
  for (int64_t b = 0; b < nb4; b += 4)
    for (int64_t q = 0; q < Kp / 4; ++q) {
      const uint8_t* r = rows + 4 * q * ld + b * kPanelCols;
      const __m512i r0 = _mm512_xor_si512(_mm512_loadu_si512(r), f), r1 = _mm512_xor_si512(_mm512_loadu_si512(r + ld), f);
      const __m512i r2 = _mm512_xor_si512(_mm512_loadu_si512(r + 2 * ld), f), r3 = _mm512_xor_si512(_mm512_loadu_si512(r + 3 * ld), f);
      const __m512i a = _mm512_unpacklo_epi8(r0, r1), c = _mm512_unpacklo_epi8(r2, r3);  // columns 0-7 of each block
      const __m512i bb = _mm512_unpackhi_epi8(r0, r1), d = _mm512_unpackhi_epi8(r2, r3);  // columns 8-15
      const __m512i o0 = _mm512_unpacklo_epi16(a, c), o1 = _mm512_unpackhi_epi16(a, c);    // columns 0-3, 4-7
      const __m512i o2 = _mm512_unpacklo_epi16(bb, d), o3 = _mm512_unpackhi_epi16(bb, d);  // columns 8-11, 12-15
      const __m512i t0 = _mm512_shuffle_i64x2(o0, o1, 0x44), t1 = _mm512_shuffle_i64x2(o0, o1, 0xEE);  // lanes 0 1 | 2 3
      const __m512i t2 = _mm512_shuffle_i64x2(o2, o3, 0x44), t3 = _mm512_shuffle_i64x2(o2, o3, 0xEE);
      uint8_t* out = panel + (b * Kp + 4 * q) * kPanelCols;
      const int64_t step = Kp * kPanelCols;  // one block further on
      _mm512_storeu_si512(out, _mm512_shuffle_i64x2(t0, t2, 0x88));             // block b:     o0-o3 lane 0
      _mm512_storeu_si512(out + step, _mm512_shuffle_i64x2(t0, t2, 0xDD));      // block b + 1: lane 1
      _mm512_storeu_si512(out + 2 * step, _mm512_shuffle_i64x2(t1, t3, 0x88));  // block b + 2: lane 2
      _mm512_storeu_si512(out + 3 * step, _mm512_shuffle_i64x2(t1, t3, 0xDD));  // block b + 3: lane 3
    }
  return nb4;
}

void interleave(const uint8_t* rows, int64_t Kp, int64_t nb, int64_t ld, uint8_t* panel, uint8_t flip = 0) {
  static const bool avx512 = cpu_supports(Isa::Avx512Vnni);
  const __m128i f = _mm_set1_epi8(static_cast<char>(flip));
  for (int64_t b = avx512 ? interleave_avx512(rows, Kp, nb, ld, panel, flip) : 0; b < nb; ++b)
    for (int64_t q = 0; q < Kp / 4; ++q) {
      const uint8_t* r = rows + 4 * q * ld + b * kPanelCols;
      __m128i v[4], o[4];
      for (int k = 0; k < 4; ++k) v[k] = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r + k * ld)), f);
      interleave_4x16(v, o);
      __m128i* out = reinterpret_cast<__m128i*>(panel + (b * Kp + 4 * q) * kPanelCols);
      for (int k = 0; k < 4; ++k) _mm_storeu_si128(out + k, o[k]);
    }
}

std::vector<uint8_t, RecyclingAllocator<uint8_t>>& rows_scratch() {
  thread_local std::vector<uint8_t, RecyclingAllocator<uint8_t>> r;
  return r;
}

void flip_and_sum(uint8_t* row, int64_t n, bool flip, int32_t* colsum) {
  if (flip)
    for (int64_t i = 0; i < n; ++i) row[i] ^= 0x80;
  if (colsum)
    for (int64_t i = 0; i < n; ++i) colsum[i] += row[i];
}

// n in [sizeof(T), 2 sizeof(T)] bytes as a T from each end (both loads before the stores).
template <class T> inline void copy_two_overlapping(uint8_t* dst, const uint8_t* src, int64_t n) {
  T a, b;
  std::memcpy(&a, src, sizeof(T));
  std::memcpy(&b, src + n - sizeof(T), sizeof(T));
  std::memcpy(dst, &a, sizeof(T));
  std::memcpy(dst + n - sizeof(T), &b, sizeof(T));
}

// n bytes, src to dst, without a library call: im2col copies rows of 7 to 56 bytes by the tens of
// thousands per layer, where memcpy's call and dispatch cost as much as the copy. Short tails are
// two overlapping loads / stores, so nothing outside [0, n) is read or written.
inline void copy_short(uint8_t* dst, const uint8_t* src, int64_t n) {
  if (n >= 16) {
    int64_t t = 0;
    for (; t + 16 < n; t += 16)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + t), _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + t)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + n - 16), _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + n - 16)));
  } else if (n >= 8) {
    copy_two_overlapping<uint64_t>(dst, src, n);
  } else if (n >= 4) {
    copy_two_overlapping<uint32_t>(dst, src, n);
  } else {
    for (int64_t t = 0; t < n; ++t) dst[t] = src[t];
  }
}

// dst[t] = src[t * sw] for t < n. Stride 2 (the stem and every downsampling conv) deinterleaves 16
// bytes at a time: the even bytes of 32 survive a 0x00FF mask and a saturating pack.
void copy_strided(uint8_t* dst, const uint8_t* src, int64_t n, int64_t sw) {
  if (sw == 1) return copy_short(dst, src, n);
  int64_t t = 0;
  if (sw == 2) {
    const __m128i even = _mm_set1_epi16(0x00FF);
    // Reads src[2t .. 2t + 31]: with t + 16 < n that stays before src[2(n - 1)], the last byte needed.
    for (; t + 16 < n; t += 16) {
      const __m128i a = _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * t)), even);
      const __m128i b = _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * t + 16)), even);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + t), _mm_packus_epi16(a, b));
    }
  }
  for (; t < n; ++t) dst[t] = src[t * sw];
}

// One run of consecutive panel columns inside a single output row, and where its input starts.
struct Segment {
  int64_t col, n, src;
};
}  // namespace

void pack_conv_panel(const uint8_t* x, bool x_signed, const ConvGeom& g, int64_t group, uint8_t pad, int64_t col0,
                     int64_t ncols, uint8_t* panel, int32_t* colsum) {
  const int64_t K = g.K(), Kp = round_up(K, 4), nb = (ncols + kPanelCols - 1) / kPanelCols, ld = nb * kPanelCols;
  auto& rows = rows_scratch();
  const bool padded = g.pt || g.pl || g.pb || g.pr;
  // A pointwise conv (1x1, stride 1, no padding) without column sums: a chunk's columns are the same pixels
  // of every channel plane, so the planes are the im2col rows (row k at x + k H W + col0) and the interleave
  // reads its whole blocks in place, flipping int8 inputs as it goes; only a last partial block goes through the
  // copy. (Signed inputs took the copy until 2026-11-30: MobileNetV2's expand convs read the linear
  // bottlenecks' int8 outputs, its largest layer among them.)
  if (g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && !padded && !colsum && K % 4 == 0) {
    const int64_t HW = g.H * g.W, whole = ncols / kPanelCols, tail = ncols - whole * kPanelCols;
    const uint8_t* x0 = x + group * g.Cg() * HW + col0;
    const uint8_t flip = x_signed ? 0x80 : 0;
    interleave(x0, Kp, whole, HW, panel, flip);
    if (tail) {
      rows.assign(static_cast<size_t>(Kp * kPanelCols), flip);  // columns past the chunk: 0 once flipped
      for (int64_t k = 0; k < K; ++k) copy_short(rows.data() + k * kPanelCols, x0 + k * HW + whole * kPanelCols, tail);
      interleave(rows.data(), Kp, 1, kPanelCols, panel + whole * Kp * kPanelCols, flip);
    }
    return;
  }
  rows.resize(static_cast<size_t>(Kp * ld));  // not zero-filled: every row's first ncols bytes are written below
  for (int64_t k = 0; k < Kp; ++k)
    std::memset(rows.data() + k * ld + (k < K ? ncols : 0), 0, static_cast<size_t>(k < K ? ld - ncols : ld));
  if (colsum) std::memset(colsum, 0, sizeof(int32_t) * static_cast<size_t>(ncols));
  // Padding is written as the raw byte that becomes `pad` after the int8 flip.
  const uint8_t raw_pad = x_signed ? static_cast<uint8_t>(pad ^ 0x80) : pad;
  // Without padding (qconv_run pads the input up front) every (c, i, j) row is the same list of
  // strided copies, shifted by the kernel offset: the list is built once per chunk.
  thread_local std::vector<Segment> segs;
  segs.clear();
  for (int64_t col = 0, oh = col0 / g.OW, ow = col0 % g.OW; col < ncols;) {
    const int64_t n = std::min(g.OW - ow, ncols - col);
    segs.push_back({col, n, oh * g.sh * g.W + ow * g.sw});
    col += n;
    ow += n;
    if (ow == g.OW) {
      ow = 0;
      ++oh;
    }
  }
  for (int64_t c = 0; c < g.Cg(); ++c) {
    const uint8_t* plane = x + (group * g.Cg() + c) * g.H * g.W;
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        uint8_t* row = rows.data() + ((c * g.kh + i) * g.kw + j) * ld;
        if (!padded) {
          const uint8_t* base = plane + i * g.dh * g.W + j * g.dw;
          for (const Segment& s : segs) copy_strided(row + s.col, base + s.src, s.n, g.sw);
        } else {
          for (const Segment& s : segs) {
            const int64_t oh = (col0 + s.col) / g.OW, ow = (col0 + s.col) % g.OW, n = s.n;
            const int64_t ih = oh * g.sh - g.pt + i * g.dh;
            uint8_t* dst = row + s.col;
            if (ih < 0 || ih >= g.H) {
              std::memset(dst, raw_pad, static_cast<size_t>(n));
              continue;
            }
            // Output pixels t < t0 and t >= t1 read padding; the ones between read the input row.
            const uint8_t* src = plane + ih * g.W;
            const int64_t iw0 = ow * g.sw - g.pl + j * g.dw;
            const int64_t t0 = std::min(n, iw0 >= 0 ? 0 : (-iw0 + g.sw - 1) / g.sw);
            const int64_t t1 = std::max(t0, std::min(n, g.W - iw0 <= 0 ? 0 : (g.W - iw0 + g.sw - 1) / g.sw));
            std::memset(dst, raw_pad, static_cast<size_t>(t0));
            if (t1 > t0) copy_strided(dst + t0, src + iw0 + t0 * g.sw, t1 - t0, g.sw);
            std::memset(dst + t1, raw_pad, static_cast<size_t>(n - t1));
          }
        }
        flip_and_sum(row, ncols, x_signed, colsum);
      }
  }
  interleave(rows.data(), Kp, nb, ld, panel);
}

void pack_rows_panel(const uint8_t* x, bool x_signed, int64_t rows, int64_t K, int64_t ldx, uint8_t* panel, int32_t* colsum) {
  // Each matrix row is one panel column whose k run is contiguous: 4-byte groups copy straight.
  const int64_t Kp = round_up(K, 4), nb = (rows + kPanelCols - 1) / kPanelCols;
  std::memset(panel, 0, static_cast<size_t>(panel_bytes(Kp, nb)));
  const uint32_t flip = x_signed ? 0x80808080u : 0;
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t* col = panel + (r / kPanelCols) * Kp * kPanelCols + (r % kPanelCols) * 4;
    const uint8_t* src = x + r * ldx;
    int64_t q = 0;
    for (; 4 * q + 4 <= K; ++q) {
      uint32_t v;
      std::memcpy(&v, src + 4 * q, 4);
      v ^= flip;
      std::memcpy(col + q * 4 * kPanelCols, &v, 4);
    }
    for (int64_t k = 4 * q; k < K; ++k) col[q * 4 * kPanelCols + (k - 4 * q)] = static_cast<uint8_t>(src[k] ^ (flip & 0xff));
    if (colsum) {
      int32_t s = 0;
      for (int64_t k = 0; k < K; ++k) s += static_cast<uint8_t>(src[k] ^ (flip & 0xff));
      colsum[r] = s;
    }
  }
}

}  // namespace qfrt
