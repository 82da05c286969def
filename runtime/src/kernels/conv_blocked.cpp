// GCC 12 warns inside its own _mm512_castsi128_si512 (an intentionally undefined upper part).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/conv_blocked.h"

#include <immintrin.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/buffer.h"
#include "kernels/gemm.h"
#include "kernels/work_split.h"

namespace qfrt {

namespace {
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The conv the GEMM sees: stride 1 on phase planes. phase 1: the layer itself; phase 2: its stride-2
// form on 2x2 space-to-depth planes (each channel's 4 phases are one 4-byte group).
struct PhaseGeom {
  int64_t S, Hq, Wq, kh, kw, dh, dw;
};
PhaseGeom phase_geom(const BlockedWeights& b, const ConvGeom& g) {
  const int64_t S = b.phase, Hp = g.H + g.pt + g.pb, Wp = g.W + g.pl + g.pr;
  if (S == 1) return {1, Hp, Wp, g.kh, g.kw, g.dh, g.dw};
  return {S, ceil_div(Hp, S), ceil_div(Wp, S), b.kh, b.kw, 1, 1};
}
}  // namespace

void enable_blocked_conv(QLayer& L, int64_t Cg, int64_t kh, int64_t kw, int64_t stride) {
  if (L.bits.wbits || L.sign_select || !L.row_wzp.empty() || Cg * kh * kw != L.K || L.K == 0) return;
  // Stride 2: the phase form multiplies the MACs by 4 ceil(kh/2) ceil(kw/2) / (kh kw) -- 1.31 at 7x7,
  // 1.44 at 5x5, 1.78 at 3x3 (kept on im2col), 4 at 1x1. Layers that will never take the path
  // (1x1, other strides) keep no second copy of their weights.
  const bool phases = stride == 2 && 4 * ceil_div(kh, 2) * ceil_div(kw, 2) * 2 <= 3 * kh * kw;
  if (kh * kw == 1 || (stride != 1 && !phases)) return;
  BlockedWeights& b = L.blocked;
  b.orig_kh = kh, b.orig_kw = kw;
  b.phase = phases ? 2 : 1;
  if (b.phase == 2) {
    b.C4 = Cg, b.kh = ceil_div(kh, 2), b.kw = ceil_div(kw, 2);
  } else {
    b.C4 = ceil_div(Cg, 4), b.kh = kh, b.kw = kw;
  }
  b.Kp = b.C4 * b.kh * b.kw * 4;
  b.A.assign(static_cast<size_t>(L.M * b.Kp), 0);
  for (int64_t m = 0; m < L.M; ++m)
    for (int64_t c = 0; c < Cg; ++c)
      for (int64_t i = 0; i < kh; ++i)
        for (int64_t j = 0; j < kw; ++j) {
          // k-group (channel group, i', j'), byte within it: the channel (phase 1) or the phase (phase 2).
          const int64_t q = b.phase == 2 ? (c * b.kh + i / 2) * b.kw + j / 2 : (c / 4 * kh + i) * kw + j;
          const int64_t byte = b.phase == 2 ? i % 2 * 2 + j % 2 : c % 4;
          b.A[static_cast<size_t>(m * b.Kp + q * 4 + byte)] = L.A[static_cast<size_t>(m * L.Kp + (c * kh + i) * kw + j)];
        }
}

bool blocked_conv_fits(Isa isa, const QLayer& L, const ConvGeom& g) {
  static const bool off = [] {
    const char* e = std::getenv("QFORGE_RT_BLOCKED");
    return e && std::string(e) == "0";
  }();
  const BlockedWeights& b = L.blocked;
  if (off || isa != Isa::Avx512Vnni || b.kh == 0 || L.bits.wbits || L.sign_select || !L.row_wzp.empty()) return false;
  if (g.group != 1 || g.kh != b.orig_kh || g.kw != b.orig_kw || g.sh != b.phase || g.sw != b.phase) return false;
  if (b.phase == 2 && (g.dh != 1 || g.dw != 1)) return false;
  // A 1x1 conv's panel is a plain copy (no kh*kw expansion to save), and reading its k-groups from
  // C/4 planes far apart ran slower than the packed panel (MobileNetV2's pointwise layers: 1.5x).
  if (g.kh * g.kw == 1) return false;
  // Dropped columns at most 1/4 of the work: a 3x3 conv on a 7x7 map (2 of 9) still gained over im2col
  // (ResNet-20 batch 32, 2 threads: 5.8-5.9 -> 5.1-5.4 ms against a 1/8 limit).
  const int64_t Wq = phase_geom(b, g).Wq;
  return (Wq - g.OW) * 4 <= Wq;
}

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
// Stride-2 form: channel c's padded plane, two rows at a time (2 Wq bytes each, pad past the input), into
// its 2x2 space-to-depth phases; the rest of the px-pixel plane is padding.
void copy_phase_plane(const ConvGeom& g, const PhaseGeom& pg, const uint8_t* src, uint8_t flip, uint8_t pad, int64_t px,
                      uint8_t* plane) {
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
  std::memset(plane + pg.Hq * Wq * 4, pad, static_cast<size_t>((px - pg.Hq * Wq) * 4));
}

// Stride-1 form: channels c0 .. c0 + 3 of image n interleaved row by row into one padded plane (channels
// past C read pad_row, which the flip turns back into the pad value).
void copy_blocked_plane(const ConvGeom& g, int64_t Wq, const uint8_t* x, int64_t n, int64_t c0, uint8_t flip, uint8_t pad,
                        const uint8_t* pad_row, int64_t px, uint8_t* plane) {
  std::memset(plane, pad, static_cast<size_t>(g.pt * Wq * 4));
  const uint8_t* r[4];
  for (int64_t h = 0; h < g.H; ++h) {
    for (int k = 0; k < 4; ++k) r[k] = c0 + k < g.C ? x + ((n * g.C + c0 + k) * g.H + h) * g.W : pad_row;
    uint8_t* row = plane + (g.pt + h) * Wq * 4;
    std::memset(row, pad, static_cast<size_t>(g.pl * 4));
    interleave4(r, g.W, flip, row + g.pl * 4);
    std::memset(row + (g.pl + g.W) * 4, pad, static_cast<size_t>(g.pr * 4));
  }
  std::memset(plane + (g.pt + g.H) * Wq * 4, pad, static_cast<size_t>((px - (g.pt + g.H) * Wq) * 4));
}
}  // namespace

void blocked_conv_run(Isa isa, const QLayer& L, const ConvGeom& g, int64_t N, const uint8_t* x, void* yv, const float* residual) {
  const BlockedWeights& bw = L.blocked;
  const PhaseGeom pg = phase_geom(bw, g);
  const int64_t C4 = bw.C4, Wq = pg.Wq;
  const int64_t cols = g.OH * Wq, nblocks = (cols + kPanelCols - 1) / kPanelCols;
  // Pixels per plane: the last block's farthest tap must stay inside its own plane.
  const int64_t reach = (pg.kh - 1) * pg.dh * Wq + (pg.kw - 1) * pg.dw;
  const int64_t px = std::max(pg.Hq * Wq, nblocks * kPanelCols + reach);
  const uint8_t flip = L.in.is_signed ? 0x80 : 0, pad = L.pad_u8;
  const bool par = N * g.OH * g.OW * g.M * g.K() > kParallelMacs;

  // 1. The blocked input: [N][C4][px][4], padding and channels past C as the zero point.
  std::vector<uint8_t, RecyclingAllocator<uint8_t>> buf(static_cast<size_t>(N * C4 * px * 4));
  const std::vector<uint8_t> pad_row(static_cast<size_t>(g.W), static_cast<uint8_t>(pad ^ flip));  // flips back to pad
  run_items(N * C4, par, [&](int64_t nc) {
    uint8_t* plane = buf.data() + nc * px * 4;
    if (pg.S == 2) copy_phase_plane(g, pg, x + (nc / C4 * g.C + nc % C4) * g.H * g.W, flip, pad, px, plane);
    else copy_blocked_plane(g, Wq, x, nc / C4, nc % C4 * 4, flip, pad, pad_row.data(), px, plane);
  });

  // 2. k-group q = (channel group, i, j) reads at this byte offset from the column's own pixel.
  std::vector<int64_t> off(static_cast<size_t>(bw.Kp / 4));
  for (int64_t c4 = 0; c4 < C4; ++c4)
    for (int64_t i = 0; i < pg.kh; ++i)
      for (int64_t j = 0; j < pg.kw; ++j)
        off[static_cast<size_t>((c4 * pg.kh + i) * pg.kw + j)] = (c4 * px + i * pg.dh * Wq + j * pg.dw) * 4;

  // 3. GEMM per (image, column chunk, row part) straight from the buffer; the epilogue keeps the
  //    columns ow < OW of each output row.
  const size_t esz = L.out.elem_size();
  uint8_t* y = static_cast<uint8_t*>(yv);
  const int64_t plane_out = g.OH * g.OW;
  const Split sp = split_work(N, nblocks, g.M, par);
  run_items(N * sp.chunks * sp.mparts, par, [&](int64_t it) {
    const int64_t part = it % sp.mparts, ch = it / sp.mparts % sp.chunks, n = it / (sp.mparts * sp.chunks);
    const int64_t b0 = ch * nblocks / sp.chunks, nb = (ch + 1) * nblocks / sp.chunks - b0;
    const int64_t m0 = part * sp.rows, rows = std::min(sp.rows, g.M - m0);
    if (rows <= 0 || nb <= 0) return;
    thread_local std::vector<int32_t, RecyclingAllocator<int32_t>> C;
    C.resize(static_cast<size_t>(rows * nb * kPanelCols));
    const int64_t ldc = nb * kPanelCols, p0 = b0 * kPanelCols;
    GemmBlockedArgs a{bw.A.data() + m0 * bw.Kp, rows, bw.Kp, buf.data() + (n * C4 * px + p0) * 4, off.data(), nb, C.data(), ldc};
    gemm_u8s8_blocked_avx512vnni(a);
    // One segment per output row the chunk touches (its columns ow < OW), all rows in one call.
    thread_local std::vector<EpilogueSegment> seg;
    seg.clear();
    const int64_t base = (n * g.M + m0) * plane_out;
    for (int64_t oh = p0 / Wq; oh < g.OH && oh * Wq < p0 + ldc; ++oh) {
      const int64_t s = std::max(p0, oh * Wq), t = std::min(p0 + ldc, oh * Wq + g.OW);
      if (s < t) seg.push_back({s - p0, t - s, oh * g.OW + (s - oh * Wq)});
    }
    Epilogue e = L.epilogue(m0);
    if (residual) e.residual = residual + base;
    run_epilogue_segments(isa, e, C.data(), ldc, rows, seg.data(), static_cast<int64_t>(seg.size()), y + static_cast<size_t>(base) * esz,
                          plane_out);
  });
}

}  // namespace qfrt
