// How the conv paths (qlayer.cpp, conv_blocked.cpp) cut a layer into work items for the thread pool.
#pragma once
#include <algorithm>
#include <cstdint>

#include "core/parallel.h"
#include "kernels/gemm.h"

namespace qfrt {

constexpr int64_t kChunkBlocks = 8;  // 128 columns per work item: panel + sums stay in L2
// Below this many multiply-adds a layer runs on one thread: handing items to the other costs more
// (a job start and its wait cost a few microseconds in this VM). The VNNI GEMM finishes 2^21 MACs in
// ~5 us, so its layers split from there (ResNet-20 at batch 1 on 2 threads: 0.38 ms at 2^18, 0.18 ms at
// 2^21; batch 32 unchanged); the slower kernels, and depthwise, from 2^18.
constexpr int64_t kParallelMacs = int64_t{1} << 18;
inline int64_t parallel_macs(Isa isa) { return isa == Isa::Avx512Vnni ? int64_t{1} << 21 : kParallelMacs; }

// Output rows per GEMM call before the epilogue runs on them: a stripe's int32 sums over a chunk's 128
// columns (32-48 KB) are still in L1 when the epilogue reads them; a whole layer's (up to 960 rows, 480 KB)
// went to L2 and back. 64 = two rows of AMX tiles; 48 = eight 6-row VNNI register tiles.
inline int64_t epilogue_stripe(bool amx) { return amx ? 64 : 48; }

// Work items on every thread when the layer is big enough, else on this one.
template <class F> void run_items(int64_t n, bool par, const F& f) {
  if (par) return parallel_for(n, f);
  for (int64_t i = 0; i < n; ++i) f(i);
}

// A layer's (image, group) x columns x output rows, cut into work items.
struct Split {
  int64_t chunks = 1;  // column chunks, each a run of whole 16-column blocks: chunk c is blocks
                       // [c * nblocks / chunks, (c + 1) * nblocks / chunks)
  int64_t mparts = 1;  // output-row parts, each `rows` rows
  int64_t rows = 0;
};

// Chunks of about kChunkBlocks blocks, their count a multiple of the thread count so the last round
// keeps every thread busy; where that still gives fewer items than threads (a map of at most 16
// pixels at batch 1: one block), the output rows are split too, each part redoing the chunk's input.
inline Split split_work(int64_t outer, int64_t nblocks, int64_t Mg, bool par) {
  Split sp;
  sp.chunks = (nblocks + kChunkBlocks - 1) / kChunkBlocks;
  sp.rows = Mg;
  const int64_t T = par ? thread_count() : 1;
  if (T <= 1 || nblocks == 0) return sp;
  // More output channels than columns (a late layer of one image: 512 x 4608 weights against 4 blocks of
  // columns): every column chunk reads all the weights, so split the rows instead and each thread streams
  // its own part of them.
  const bool weights_dominate = outer * nblocks * kPanelCols <= Mg && Mg >= 12 * T;
  if ((outer * sp.chunks) % T && !weights_dominate) sp.chunks = std::min(nblocks, (sp.chunks + T - 1) / T * T);
  if (outer * sp.chunks < T || weights_dominate) {
    sp.mparts = T;
    sp.rows = round_up((Mg + T - 1) / T, 6);  // whole 6-row register tiles (gemm_avx512.cpp)
  }
  return sp;
}

// Work item `it` (of outer x chunks x mparts) of a Split: its outer index (image, or image x group), its
// column blocks [b0, b0 + nb) and its rows [m0, m0 + rows) of the Mg per outer index (rows <= 0: a last part
// with none left).
struct WorkItem {
  int64_t outer, b0, nb, m0, rows;
};
inline WorkItem work_item(const Split& sp, int64_t it, int64_t nblocks, int64_t Mg) {
  const int64_t part = it % sp.mparts, ch = it / sp.mparts % sp.chunks;
  WorkItem w;
  w.outer = it / (sp.mparts * sp.chunks);
  w.b0 = ch * nblocks / sp.chunks, w.nb = (ch + 1) * nblocks / sp.chunks - w.b0;
  w.m0 = part * sp.rows, w.rows = std::min(sp.rows, Mg - w.m0);
  return w;
}

}  // namespace qfrt
