// GCC 12 warns inside its own _mm512_castsi128_si512 (an intentionally undefined upper part).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/blocked_input.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "core/cpu.h"
#include "kernels/byte_lanes.h"
#include "kernels/gemm.h"

namespace qfrt {

namespace {
// out[4 t + k] = rows[k][t] ^ flip for t < n: four channel rows become one blocked row. AVX-512 (the
// blocked path runs only there) for the masked tail: maps of 7, 14 or 28 pixels end in a partial
// 16-column step, which as a byte loop was 2/3 of this function's time.
__attribute__((target("avx512f,avx512bw"))) void interleave4(const uint8_t* const r[4], int64_t n, uint8_t flip, uint8_t* out) {
  const __m128i f = _mm_set1_epi8(static_cast<char>(flip));
  for (int64_t t = 0; t < n; t += 16) {
    const int64_t m = n - t < 16 ? n - t : 16;
    const __mmask64 in_mask = (uint64_t{1} << m) - 1;
    __m128i v[4], g[4];
    for (int k = 0; k < 4; ++k)
      v[k] = _mm_xor_si128(_mm512_castsi512_si128(_mm512_maskz_loadu_epi8(in_mask, r[k] + t)), f);
    interleave_4x16(v, g);
    __m512i o = _mm512_castsi128_si512(g[0]);
    o = _mm512_inserti32x4(o, g[1], 1);
    o = _mm512_inserti32x4(o, g[2], 2);
    o = _mm512_inserti32x4(o, g[3], 3);
    _mm512_mask_storeu_epi8(out + 4 * t, m == 16 ? ~__mmask64{0} : (uint64_t{1} << (4 * m)) - 1, o);
  }
}

// out[4 t .. 4 t + 3] = r0[2t], r0[2t + 1], r1[2t], r1[2t + 1] for t < n: the 2x2 phases of two rows.
void interleave_pairs(const uint8_t* r0, const uint8_t* r1, int64_t n, uint8_t* out) {
  int64_t t = 0;
  for (; t + 8 <= n; t += 8) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r0 + 2 * t));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r1 + 2 * t));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 4 * t), _mm_unpacklo_epi16(a, b));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 4 * t + 16), _mm_unpackhi_epi16(a, b));
  }
  for (; t < n; ++t) {
    out[4 * t] = r0[2 * t], out[4 * t + 1] = r0[2 * t + 1], out[4 * t + 2] = r1[2 * t], out[4 * t + 3] = r1[2 * t + 1];
  }
}
// Input row s (W bytes) placed at padded column pl and split into its even (ev) and odd (od) padded
// columns, Wq each (both with room for round_up(Wq, 16)); columns outside the input are raw_pad. row:
// scratch of 2 round_up(Wq, 16) bytes. The split takes 32 bytes a step: even bytes survive a 0x00FF mask,
// odd ones a 16-bit shift, then a saturating pack (a byte loop cost 4x the GEMM on ResNet-20's 14x14 maps).
void split_phases(const uint8_t* s, int64_t W, int64_t pl, int64_t Wq, uint8_t raw_pad, uint8_t* row, uint8_t* ev, uint8_t* od) {
  const int64_t n = 2 * round_up(Wq, 16);
  std::memset(row, raw_pad, static_cast<size_t>(pl));
  std::memcpy(row + pl, s, static_cast<size_t>(W));
  std::memset(row + pl + W, raw_pad, static_cast<size_t>(n - pl - W));
  const __m128i low = _mm_set1_epi16(0x00FF);
  for (int64_t t = 0; 2 * t < n; t += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * t));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * t + 16));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(ev + t), _mm_packus_epi16(_mm_and_si128(a, low), _mm_and_si128(b, low)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(od + t), _mm_packus_epi16(_mm_srli_epi16(a, 8), _mm_srli_epi16(b, 8)));
  }
}

// Stride-2 channel form: channels c0 .. c0 + 3 of image n as the first Hq x Wq pixels of 4 planes [px][4 channels],
// plane (a, b) holding padded pixel (2 y + a, 2 x + b) at (y, x); channels past C and padding are the zero point.
void copy_channel_phases(const ConvGeom& g, const PhaseGeom& pg, const uint8_t* x, int64_t n, int64_t c0, uint8_t flip, uint8_t pad,
                         int64_t px, uint8_t* planes) {
  const int64_t Wq = pg.Wq, Wq16 = round_up(Wq, 16);
  const uint8_t raw_pad = static_cast<uint8_t>(pad ^ flip);  // interleave4's flip turns it back into pad
  thread_local std::vector<uint8_t> tmp;
  tmp.resize(static_cast<size_t>(10 * Wq16));  // [channel k][column phase b][Wq16] raw bytes, then a padded row
  uint8_t* row = tmp.data() + 8 * Wq16;
  for (int64_t h = 0; h < 2 * pg.Hq; ++h) {
    const int64_t ih = h - g.pt;
    for (int64_t k = 0; k < 4; ++k) {
      uint8_t* ev = tmp.data() + 2 * k * Wq16;
      if (c0 + k >= g.C || ih < 0 || ih >= g.H) {
        std::memset(ev, raw_pad, static_cast<size_t>(2 * Wq16));
      } else {
        split_phases(x + ((n * g.C + c0 + k) * g.H + ih) * g.W, g.W, g.pl, Wq, raw_pad, row, ev, ev + Wq16);
      }
    }
    for (int64_t b = 0; b < 2; ++b) {
      const uint8_t* r[4];
      for (int64_t k = 0; k < 4; ++k) r[k] = tmp.data() + (2 * k + b) * Wq16;
      interleave4(r, Wq, flip, planes + ((h % 2 * 2 + b) * px + h / 2 * Wq) * 4);
    }
  }
}

// Stride-2 phase-byte form: channel c's padded plane, two rows at a time (2 Wq bytes each, pad past the input), into
// its 2x2 space-to-depth phases, the first Hq x Wq pixels of the plane.
void copy_phase_plane(const ConvGeom& g, const PhaseGeom& pg, const uint8_t* src, uint8_t flip, uint8_t pad, uint8_t* plane) {
  const int64_t Wq = pg.Wq;
  thread_local std::vector<uint8_t> rows;
  rows.resize(static_cast<size_t>(4 * Wq));
  auto padded_row = [&](int64_t h, uint8_t* r) {
    const int64_t ih = h - g.pt;
    std::memset(r, pad, static_cast<size_t>(2 * Wq));
    if (ih < 0 || ih >= g.H) return;
    const uint8_t* s = src + ih * g.W;
    for (int64_t w = 0; w < g.W; ++w) r[g.pl + w] = s[w] ^ flip;
  };
  for (int64_t h = 0; h < pg.Hq; ++h) {
    padded_row(2 * h, rows.data());
    padded_row(2 * h + 1, rows.data() + 2 * Wq);
    interleave_pairs(rows.data(), rows.data() + 2 * Wq, Wq, plane + h * Wq * 4);
  }
}

// Stride-1 form: channels c0 .. c0 + 3 of image n interleaved row by row into the Hq padded rows of one plane
// (channels past C read pad_row, which the flip turns back into the pad value).
void copy_blocked_plane(const ConvGeom& g, const PhaseGeom& pg, const uint8_t* x, int64_t n, int64_t c0, uint8_t flip, uint8_t pad,
                        const uint8_t* pad_row, uint8_t* plane) {
  const int64_t Wq = pg.Wq;
  std::memset(plane, pad, static_cast<size_t>(g.pt * Wq * 4));
  const uint8_t* r[4];
  for (int64_t h = 0; h < g.H; ++h) {
    for (int k = 0; k < 4; ++k) r[k] = c0 + k < g.C ? x + ((n * g.C + c0 + k) * g.H + h) * g.W : pad_row;
    uint8_t* row = plane + (g.pt + h) * Wq * 4;
    std::memset(row, pad, static_cast<size_t>(g.pl * 4));
    interleave4(r, g.W, flip, row + g.pl * 4);
    std::memset(row + (g.pl + g.W) * 4, pad, static_cast<size_t>(g.pr * 4));
  }
  std::memset(plane + (g.pt + g.H) * Wq * 4, pad, static_cast<size_t>((pg.Hq - g.pt - g.H) * Wq * 4));
}

// BlockedInput::RowGather for column phase b (stride S, Wq <= 64 output pixels, W <= 64 input bytes).
BlockedInput::RowGather make_row_gather(int64_t Wq, int64_t W, int64_t S, int64_t b, int64_t pl) {
  BlockedInput::RowGather G;
  G.steps = (Wq + 31) / 32;
  for (int64_t s = 0; s < G.steps; ++s)
    for (int64_t i = 0; i < 32; ++i) {
      const int64_t x = 32 * s + i, src = S * x + b - pl;
      const bool in = x < Wq && src >= 0 && src < W;
      G.idx[s][2 * i] = static_cast<uint8_t>(in ? src : 0);
      G.idx[s][2 * i + 1] = static_cast<uint8_t>(64 + (in ? src : 0));
      if (in) G.valid[s] |= uint64_t{3} << (2 * i);
    }
  return G;
}

// Channels c0 .. c0 + 3 of image n into the first Hq x Wq pixels of the S x S planes by the row gathers G[b]
// (b < S): padded row h goes to plane (h % S, b), row h / S. One function for the whole plane set, so the permute indices, masks and
// constants stay in registers (a call per row cost as much as its permutes on 14x14 maps).
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) void gather_planes(const BlockedInput::RowGather* G, const ConvGeom& g,
                                                                           const PhaseGeom& pg, const uint8_t* x, int64_t n, int64_t c0,
                                                                           uint8_t flip, uint8_t pad, int64_t px, uint8_t* planes) {
  const int64_t S = pg.S, Wq = pg.Wq, steps = G[0].steps;
  const __mmask64 lm = byte_lanes(0, g.W);
  const __m512i f = _mm512_set1_epi8(static_cast<char>(flip)), p = _mm512_set1_epi8(static_cast<char>(pad));
  // Words i of (ab, cd) interleaved: output pixel i holds channels 0-1 from ab and 2-3 from cd.
  alignas(64) static const uint16_t kLo[32] = {0, 32, 1, 33, 2, 34, 3, 35, 4, 36, 5, 37, 6, 38, 7, 39,
                                               8, 40, 9, 41, 10, 42, 11, 43, 12, 44, 13, 45, 14, 46, 15, 47};
  const __m512i wlo = _mm512_load_si512(kLo), whi = _mm512_add_epi16(wlo, _mm512_set1_epi16(16));
  __m512i iv[2][2];
  __mmask64 valid[2][2], st_lo[2], st_hi[2];
  for (int64_t s = 0; s < steps; ++s) {
    for (int64_t b = 0; b < S; ++b) iv[b][s] = _mm512_loadu_si512(G[b].idx[s]), valid[b][s] = G[b].valid[s];
    const int64_t m = std::min<int64_t>(32, Wq - 32 * s);  // pixels of this step
    st_lo[s] = m >= 16 ? ~__mmask64{0} : (__mmask64{1} << (4 * m)) - 1;
    st_hi[s] = m >= 32 ? ~__mmask64{0} : m > 16 ? (__mmask64{1} << (4 * (m - 16))) - 1 : 0;
  }
  const __m512i raw_pad = _mm512_xor_si512(p, f);  // channels past C: the flip turns it back into pad
  const uint8_t* ch[4];
  for (int64_t k = 0; k < 4; ++k) ch[k] = c0 + k < g.C ? x + (n * g.C + c0 + k) * g.H * g.W : nullptr;
  for (int64_t h = 0; h < S * pg.Hq; ++h) {
    const int64_t ih = h - g.pt;
    uint8_t* rows[2];
    for (int64_t b = 0; b < S; ++b) rows[b] = planes + ((h % S * S + b) * px + h / S * Wq) * 4;
    if (ih < 0 || ih >= g.H) {
      for (int64_t b = 0; b < S; ++b) std::memset(rows[b], pad, static_cast<size_t>(Wq * 4));
      continue;
    }
    __m512i v[4];
    for (int k = 0; k < 4; ++k) v[k] = ch[k] ? _mm512_maskz_loadu_epi8(lm, ch[k] + ih * g.W) : raw_pad;
    for (int64_t b = 0; b < S; ++b)
      for (int64_t s = 0; s < steps; ++s) {
        const __m512i ab = _mm512_mask_blend_epi8(valid[b][s], p, _mm512_xor_si512(_mm512_permutex2var_epi8(v[0], iv[b][s], v[1]), f));
        const __m512i cd = _mm512_mask_blend_epi8(valid[b][s], p, _mm512_xor_si512(_mm512_permutex2var_epi8(v[2], iv[b][s], v[3]), f));
        uint8_t* o = rows[b] + 128 * s;
        _mm512_mask_storeu_epi8(o, st_lo[s], _mm512_permutex2var_epi16(ab, wlo, cd));
        if (st_hi[s]) _mm512_mask_storeu_epi8(o + 64, st_hi[s], _mm512_permutex2var_epi16(ab, whi, cd));
      }
  }
}
}  // namespace

BlockedInput::BlockedInput(const ConvGeom& g, const PhaseGeom& pg, uint8_t flip, uint8_t pad, int64_t px)
    : g_(g), pg_(pg), flip_(flip), pad_(pad), px_(px), pad_row_(static_cast<size_t>(g.W), static_cast<uint8_t>(pad ^ flip)) {
  // The phase-byte form keeps its own copy (one channel per plane); the others gather rows where they fit.
  gather_ = cpu_has_avx512vbmi() && !pg.phase_bytes() && g.W <= 64 && pg.Wq <= 64;
  if (gather_)
    for (int64_t b = 0; b < pg.S; ++b) rows_[b] = make_row_gather(pg.Wq, g.W, pg.S, b, g.pl);
}

void BlockedInput::copy(const uint8_t* x, int64_t n, int64_t c4, uint8_t* planes) const {
  const ConvGeom& g = g_;
  if (pg_.phase_bytes()) copy_phase_plane(g, pg_, x + (n * g.C + c4) * g.H * g.W, flip_, pad_, planes);
  else if (gather_) gather_planes(rows_, g, pg_, x, n, c4 * 4, flip_, pad_, px_, planes);
  else if (pg_.P == 4) copy_channel_phases(g, pg_, x, n, c4 * 4, flip_, pad_, px_, planes);
  else copy_blocked_plane(g, pg_, x, n, c4 * 4, flip_, pad_, pad_row_.data(), planes);
  // Every form wrote the first Hq x Wq pixels of each plane; the rest (the last block's reach) is padding.
  for (int64_t p = 0; p < pg_.P; ++p)
    std::memset(planes + (p * px_ + pg_.Hq * pg_.Wq) * 4, pad_, static_cast<size_t>((px_ - pg_.Hq * pg_.Wq) * 4));
}

}  // namespace qfrt
