#include "kernels/conv_blocked.h"

#include <algorithm>
#include <vector>

#include "core/buffer.h"
#include "core/env.h"
#include "kernels/blocked_input.h"
#include "kernels/gemm.h"
#include "kernels/work_split.h"

namespace qfrt {

namespace {
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

PhaseGeom phase_geom(const BlockedWeights& b, const ConvGeom& g) {
  const int64_t Hp = g.H + g.pt + g.pb, Wp = g.W + g.pl + g.pr;
  if (b.stride == 1) return {1, 1, Hp, Wp, g.kh, g.kw, g.dh, g.dw};
  if (b.phase_bytes) return {2, 1, ceil_div(Hp, 2), ceil_div(Wp, 2), b.kh, b.kw, 1, 1};
  return {2, 4, ceil_div(Hp, 2), ceil_div(Wp, 2), g.kh, g.kw, 1, 1};
}
}  // namespace

bool amx_channel_chunks(int64_t C4) { return C4 > 0 && (C4 % 16 == 0 || C4 == 4 || C4 == 8); }

void enable_blocked_conv(QLayer& L, int64_t Cg, int64_t kh, int64_t kw, int64_t stride) {
  if (L.bits.wbits || L.sign_select || !L.row_wzp.empty() || Cg * kh * kw != L.K || L.K == 0) return;
  // 1x1 layers and strides other than 1 and 2 never take the path and keep no second copy of their weights.
  if (kh * kw == 1 || (stride != 1 && stride != 2)) return;
  BlockedWeights& b = L.blocked;
  b.orig_kh = kh, b.orig_kw = kw;
  b.stride = stride;
  // Stride 2: the phase-byte form multiplies the MACs by 4 ceil(kh/2) ceil(kw/2) / (kh kw) -- 1.31 at 7x7,
  // 1.44 at 5x5, 1.78 at 3x3 -- the channel form by 4 ceil(Cg/4) / Cg; the smaller waste wins.
  b.phase_bytes = stride == 2 && 4 * ceil_div(kh, 2) * ceil_div(kw, 2) * Cg < 4 * ceil_div(Cg, 4) * kh * kw;
  if (b.phase_bytes) {
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
          // k-group (channel group, i', j'), byte within it: the channel (channel form) or the phase.
          const int64_t q = b.phase_bytes ? (c * b.kh + i / 2) * b.kw + j / 2 : (c / 4 * kh + i) * kw + j;
          const int64_t byte = b.phase_bytes ? i % 2 * 2 + j % 2 : c % 4;
          b.A[static_cast<size_t>(m * b.Kp + q * 4 + byte)] = L.A[static_cast<size_t>(m * L.Kp + (c * kh + i) * kw + j)];
        }
  // The tiles want 16 k-groups a fixed stride apart: 16 channel groups of one tap, planes apart. So the
  // tile copy runs K tap-major, (i, j, channel group), and only where channel groups fill whole chunks.
  // 4 or 8 channel groups (16 / 32 channels) make 16- / 32-byte chunks.
  if (cpu_has_amx() && shifted_rows_fit(b)) b.amx = make_amx_weights(b.A.data(), L.M, b.Kp);  // k-groups in their own order
  if (cpu_has_amx() && !b.phase_bytes && amx_channel_chunks(b.C4)) {
    std::vector<int64_t> order;
    for (int64_t i = 0; i < b.kh; ++i)
      for (int64_t j = 0; j < b.kw; ++j)
        for (int64_t c4 = 0; c4 < b.C4; ++c4) order.push_back((c4 * b.kh + i) * b.kw + j);
    b.amx = make_amx_weights(b.A.data(), L.M, b.Kp, &order, 4 * std::min<int64_t>(b.C4, 16));
  }
}

bool blocked_conv_fits(Isa isa, const QLayer& L, const ConvGeom& g) {
  static const bool off = env_is_zero("QFORGE_RT_BLOCKED");
  const BlockedWeights& b = L.blocked;
  if (off || isa != Isa::Avx512Vnni || b.kh == 0 || L.bits.wbits || L.sign_select || !L.row_wzp.empty()) return false;
  if (g.group != 1 || g.kh != b.orig_kh || g.kw != b.orig_kw || g.sh != b.stride || g.sw != b.stride) return false;
  if (b.stride == 2 && (g.dh != 1 || g.dw != 1)) return false;
  // A 1x1 conv's panel is a plain copy (no kh*kw expansion to save), and reading its k-groups from
  // C/4 planes far apart ran slower than the packed panel (MobileNetV2's pointwise layers: 1.5x).
  if (g.kh * g.kw == 1) return false;
  // Dropped columns at most 1/4 of the work: a 3x3 conv on a 7x7 map (2 of 9) still gained over im2col
  // (ResNet-20 batch 32, 2 threads: 5.8-5.9 -> 5.1-5.4 ms against a 1/8 limit).
  const int64_t Wq = phase_geom(b, g).Wq;
  return (Wq - g.OW) * 4 <= Wq;
}

void blocked_conv_run(Isa isa, const QLayer& L, const ConvGeom& g, int64_t N, const uint8_t* x, void* yv, const float* residual,
                      uint8_t* yq) {
  const BlockedWeights& bw = L.blocked;
  const PhaseGeom pg = phase_geom(bw, g);
  const int64_t C4 = bw.C4, Wq = pg.Wq;
  const int64_t cols = g.OH * Wq, nblocks = (cols + kPanelCols - 1) / kPanelCols;
  // Pixels per plane: the last block's farthest tap must stay inside its own plane.
  const int64_t reach = pg.shift(pg.kh - 1, pg.kw - 1);
  const bool shifted = !bw.amx.empty() && amx_active(isa) && shifted_rows_fit(bw);
  const int64_t px = std::max({pg.Hq * Wq, nblocks * kPanelCols + reach, shifted ? shifted_rows_pixels(g, pg) : 0});
  const uint8_t flip = L.in.is_signed ? 0x80 : 0, pad = L.pad_u8;
  const bool par = N * g.OH * g.OW * g.M * g.K() > parallel_macs(isa);

  // 1. The blocked input: [N][C4][P][px][4], padding and channels past C as the zero point.
  const int64_t P = pg.P;
  std::vector<uint8_t, RecyclingAllocator<uint8_t>> buf(static_cast<size_t>(N * C4 * P * px * 4));
  const BlockedInput input(g, pg, flip, pad, px);
  run_items(N * C4, par, [&](int64_t nc) { input.copy(x, nc / C4, nc % C4, buf.data() + nc * P * px * 4); });
  if (shifted) return shifted_rows_conv_run(isa, L, g, pg, px, buf.data(), N, static_cast<uint8_t*>(yv), residual, yq);

  // 2. k-group q = (channel group, i, j) reads at this byte offset from the column's own pixel.
  std::vector<int64_t> off(static_cast<size_t>(bw.Kp / 4));
  for (int64_t c4 = 0; c4 < C4; ++c4)
    for (int64_t i = 0; i < pg.kh; ++i)
      for (int64_t j = 0; j < pg.kw; ++j)
        off[static_cast<size_t>((c4 * pg.kh + i) * pg.kw + j)] = ((c4 * P + pg.plane(i, j)) * px + pg.shift(i, j)) * 4;

  // The tiles' chunks: cg channel groups of tap (i, j), from group cg h (the tap-major order of bw.amx).
  const bool amx = !bw.amx.empty() && amx_active(isa);
  std::vector<int64_t> chunk_off;
  const int64_t cg = bw.amx.chunk / 4;
  if (amx)
    for (int64_t i = 0; i < pg.kh; ++i)
      for (int64_t j = 0; j < pg.kw; ++j)
        for (int64_t h = 0; h < C4 / cg; ++h) chunk_off.push_back(off[static_cast<size_t>((cg * h * pg.kh + i) * pg.kw + j)]);

  // 3. GEMM per (image, column chunk, row part) straight from the buffer; the epilogue keeps the
  //    columns ow < OW of each output row.
  const size_t esz = L.out.elem_size();
  uint8_t* y = static_cast<uint8_t*>(yv);
  const int64_t plane_out = g.OH * g.OW;
  const Split sp = split_work(N, nblocks, g.M, par);
  run_items(N * sp.chunks * sp.mparts, par, [&](int64_t it) {
    const WorkItem w = work_item(sp, it, nblocks, g.M);
    const int64_t n = w.outer, b0 = w.b0, nb = w.nb, m0 = w.m0, rows = w.rows;
    if (rows <= 0 || nb <= 0) return;
    const int64_t stripe = std::min(rows, epilogue_stripe(amx));  // rows per GEMM call, then their epilogue
    thread_local std::vector<int32_t, RecyclingAllocator<int32_t>> C;
    C.resize(static_cast<size_t>(stripe * nb * kPanelCols));
    const int64_t ldc = nb * kPanelCols, p0 = b0 * kPanelCols;
    const uint8_t* B = buf.data() + (n * C4 * P * px + p0) * 4;
    // One segment per output row the chunk touches (its columns ow < OW), all rows of a stripe in one call.
    thread_local std::vector<EpilogueSegment> seg;
    seg.clear();
    for (int64_t oh = p0 / Wq; oh < g.OH && oh * Wq < p0 + ldc; ++oh) {
      const int64_t s = std::max(p0, oh * Wq), t = std::min(p0 + ldc, oh * Wq + g.OW);
      if (s < t) seg.push_back({s - p0, t - s, oh * g.OW + (s - oh * Wq)});
    }
    for (int64_t r = 0; r < rows; r += stripe) {
      const int64_t rr = std::min(stripe, rows - r);
      if (amx) {
        gemm_u8s8_amx(bw.amx, m0 + r, rr, AmxSource{B, 64, P * px * 4, chunk_off.data()}, nb, C.data(), ldc);
      } else {
        GemmBlockedArgs a{bw.A.data() + (m0 + r) * bw.Kp, rr, bw.Kp, B, off.data(), nb, C.data(), ldc};
        gemm_u8s8_blocked_avx512vnni(a);
      }
      const int64_t base = (n * g.M + m0 + r) * plane_out;
      Epilogue e = L.epilogue(m0 + r);
      if (residual) e.residual = residual + base;
      if (yq) e.qout = yq + base;
      run_epilogue_segments(isa, e, C.data(), ldc, rr, seg.data(), static_cast<int64_t>(seg.size()), y + static_cast<size_t>(base) * esz,
                            plane_out);
    }
  });
}

}  // namespace qfrt
