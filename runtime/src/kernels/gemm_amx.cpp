// AMX kernel: a 2 x 2 block of C tiles (32 output channels x 32 columns) stays in tiles 0-3 over all
// of K; tiles 4-5 take the two weight tiles, 6-7 the two activation tiles of each chunk of K.
#include "kernels/gemm_amx.h"

#include <immintrin.h>

#include <cstring>

#define QF_AMX __attribute__((target("amx-tile,amx-int8,avx512f")))

namespace qfrt {

namespace {
// C tiles hold 16 x 16 int32; weight tiles 16 rows x `chunk` bytes, activation tiles chunk / 4 k-groups x 64.
AmxTileConfig tiles_for(int64_t chunk) {
  AmxTileConfig t;
  for (int i = 0; i < 4; ++i) t.rows[i] = 16, t.colsb[i] = 64;
  for (int i = 4; i < 6; ++i) t.rows[i] = 16, t.colsb[i] = static_cast<uint16_t>(chunk);
  for (int i = 6; i < 8; ++i) t.rows[i] = static_cast<uint8_t>(chunk / 4), t.colsb[i] = 64;
  return t;
}

// Stores C tile `tile` holding rows [0, valid) of a 16-row block into C (ldc); rows past `valid` are
// padding weights' sums and are dropped.
#define QF_STORE_C(tile, dst, ldc, valid)                                                      \
  do {                                                                                         \
    if ((valid) >= 16) {                                                                       \
      _tile_stored(tile, dst, (ldc) * 4);                                                      \
    } else {                                                                                   \
      alignas(64) int32_t tmp[16 * 16];                                                        \
      _tile_stored(tile, tmp, 64);                                                             \
      for (int64_t r = 0; r < (valid); ++r) std::memcpy((dst) + r * (ldc), tmp + r * 16, 64); \
    }                                                                                          \
  } while (0)

// TWO_M: a second 16-row weight tile; TWO_N: a second column block.
template <bool TWO_M, bool TWO_N>
QF_AMX void tile_block(const int8_t* a, int64_t Kq, int64_t chunk, const AmxSource& s, const uint8_t* b, int32_t* C, int64_t ldc,
                       int64_t valid) {
  _tile_zero(0);
  if (TWO_N) _tile_zero(1);
  if (TWO_M) _tile_zero(2);
  if (TWO_M && TWO_N) _tile_zero(3);
  const int64_t chunks = Kq / chunk;
  for (int64_t c = 0; c < chunks; ++c) {
    const uint8_t* bc = b + (s.chunk_off ? s.chunk_off[c] : c * chunk / 4 * s.row_stride);
    _tile_loadd(4, a + c * chunk, Kq);
    _tile_loadd(6, bc, s.row_stride);
    if (TWO_N) _tile_loadd(7, bc + s.block_stride, s.row_stride);
    _tile_dpbsud(0, 4, 6);
    if (TWO_N) _tile_dpbsud(1, 4, 7);
    if (TWO_M) {
      _tile_loadd(5, a + 16 * Kq + c * chunk, Kq);
      _tile_dpbsud(2, 5, 6);
      if (TWO_N) _tile_dpbsud(3, 5, 7);
    }
  }
  QF_STORE_C(0, C, ldc, valid);
  if (TWO_N) QF_STORE_C(1, C + 16, ldc, valid);
  if (TWO_M) QF_STORE_C(2, C + 16 * ldc, ldc, valid - 16);
  if (TWO_M && TWO_N) QF_STORE_C(3, C + 16 * ldc + 16, ldc, valid - 16);
}
}  // namespace

AmxWeights make_amx_weights(const int8_t* A, int64_t M, int64_t Kp, const std::vector<int64_t>* order, int64_t chunk) {
  AmxWeights w;
  w.M = M;
  w.chunk = chunk;
  w.Kq = (Kp + chunk - 1) / chunk * chunk;
  w.A.assign(static_cast<size_t>((M + 16) * w.Kq), 0);
  const int64_t groups = order ? static_cast<int64_t>(order->size()) : Kp / 4;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t q = 0; q < groups; ++q)
      std::memcpy(&w.A[static_cast<size_t>(m * w.Kq + q * 4)], A + m * Kp + (order ? (*order)[static_cast<size_t>(q)] : q) * 4, 4);
  return w;
}

QF_AMX void gemm_u8s8_amx(const AmxWeights& w, int64_t m0, int64_t rows, const AmxSource& s, int64_t nblocks, int32_t* C, int64_t ldc) {
  static const AmxTileConfig cfg[3] = {tiles_for(16), tiles_for(32), tiles_for(64)};
  _tile_loadconfig(&cfg[w.chunk == 16 ? 0 : w.chunk == 32 ? 1 : 2]);
  const int64_t Kq = w.Kq, chunk = w.chunk;
  for (int64_t m = 0; m < rows; m += 32) {
    const int8_t* a = w.A.data() + (m0 + m) * Kq;
    const int64_t valid = rows - m;
    for (int64_t j = 0; j < nblocks; j += 2) {
      const bool two_n = j + 1 < nblocks;
      const uint8_t* b = s.B + j * s.block_stride;
      int32_t* c = C + m * ldc + j * 16;
      if (valid > 16) {
        if (two_n) tile_block<true, true>(a, Kq, chunk, s, b, c, ldc, valid);
        else tile_block<true, false>(a, Kq, chunk, s, b, c, ldc, valid);
      } else {
        if (two_n) tile_block<false, true>(a, Kq, chunk, s, b, c, ldc, valid);
        else tile_block<false, false>(a, Kq, chunk, s, b, c, ldc, valid);
      }
    }
  }
  _tile_release();
}

}  // namespace qfrt
