// The phase-byte stem (conv_blocked.h: a 7x7 / 2 conv on 3 channels as a 4x4 kernel over each channel's
// 2x2 phases, one 4-byte group per pixel) on the AMX tiles.
// A tile's 16 k-groups must lie a fixed stride apart; in the phase plane tap (I, J) of a column sits at
// (I Wq + J) pixels -- not a fixed stride. So each output-row range first gets a copy of the phase rows it reads,
// every row kw times, copy J shifted left by J pixels: V[r][J][w] = phase[r][w + J]. Then tap (I, J) of output
// (oh, ow) is V[oh + I][J][ow], at ((oh kw + I kw + J) Wr + ow) 4 bytes: k-group t = I kw + J lies t Wr 4 bytes
// past the column's own, and a channel's 16 taps are one 64-byte chunk of K. The kernel's 1.31x MACs stay (as
// on vpdpbusd), but the tiles do 16 K of them an instruction.
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/buffer.h"
#include "kernels/blocked_input.h"
#include "kernels/conv_blocked.h"
#include "kernels/gemm_amx.h"
#include "kernels/work_split.h"

namespace qfrt {

namespace {
constexpr int64_t kRowsPerItem = 8;  // output rows per work item: its V copy (~50 KB for ResNet-18) stays in L2
}  // namespace

bool shifted_rows_fit(const BlockedWeights& b) { return b.phase_bytes && b.kh * b.kw == 16; }

int64_t shifted_rows_pixels(const ConvGeom& g, const PhaseGeom& pg) {
  const int64_t Wr = (g.OW + kPanelCols - 1) / kPanelCols * kPanelCols;
  return (g.OH + pg.kh - 2) * pg.Wq + pg.kw - 1 + Wr;  // the last copy row's farthest byte, + 1
}

void shifted_rows_conv_run(Isa isa, const QLayer& L, const ConvGeom& g, const PhaseGeom& pg, int64_t px, const uint8_t* phases, int64_t N,
                           uint8_t* y, const float* residual, uint8_t* yq) {
  const BlockedWeights& bw = L.blocked;
  const int64_t C = bw.C4, kh = pg.kh, kw = pg.kw, OH = g.OH, OW = g.OW, M = g.M;
  const int64_t nb = (OW + kPanelCols - 1) / kPanelCols, Wr = nb * kPanelCols;  // a V row: whole column blocks
  const int64_t items_per_image = (OH + kRowsPerItem - 1) / kRowsPerItem, plane_out = OH * OW;
  const size_t esz = L.out.elem_size();
  const bool par = N * OH * OW * M * g.K() > parallel_macs(isa);
  // A channel's V rows are vchan bytes apart in every item (the last one may use fewer): the tiles' chunk c
  // starts c * vchan past the row's own.
  const int64_t vchan = (kRowsPerItem + kh - 1) * kw * Wr * 4;
  std::vector<int64_t> chunk_off(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) chunk_off[static_cast<size_t>(c)] = c * vchan;
  run_items(N * items_per_image, par, [&](int64_t it) {
    const int64_t n = it / items_per_image, oh0 = it % items_per_image * kRowsPerItem, rows = std::min(kRowsPerItem, OH - oh0);
    const int64_t R = rows + kh - 1;  // V rows of one channel this item reads
    thread_local std::vector<uint8_t, RecyclingAllocator<uint8_t>> V;
    thread_local std::vector<int32_t, RecyclingAllocator<int32_t>> Cs;
    V.resize(static_cast<size_t>(C * vchan));
    Cs.resize(static_cast<size_t>(M * Wr));
    // Pixels w + J past the phase row belong to columns ow >= OW (dropped), never to kept outputs; px
    // (shifted_rows_pixels) keeps those reads inside the plane.
    for (int64_t c = 0; c < C; ++c)
      for (int64_t r = 0; r < R; ++r)
        for (int64_t j = 0; j < kw; ++j)
          std::memcpy(V.data() + c * vchan + (r * kw + j) * Wr * 4, phases + ((n * C + c) * px + (oh0 + r) * pg.Wq + j) * 4,
                      static_cast<size_t>(Wr * 4));
    for (int64_t oh = oh0; oh < oh0 + rows; ++oh) {
      const AmxSource src{V.data() + (oh - oh0) * kw * Wr * 4, kPanelCols * 4, Wr * 4, chunk_off.data()};
      gemm_u8s8_amx(bw.amx, 0, M, src, nb, Cs.data(), Wr);
      const int64_t at = n * M * plane_out + oh * OW;
      Epilogue e = L.epilogue(0);
      if (residual) e.residual = residual + at;
      if (yq) e.qout = yq + at;
      run_epilogue(isa, e, Cs.data(), Wr, M, OW, y + static_cast<size_t>(at) * esz, plane_out, 1);
    }
  });
}

}  // namespace qfrt
