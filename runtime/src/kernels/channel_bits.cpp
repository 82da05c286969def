#include "kernels/channel_bits.h"

#include <algorithm>
#include <vector>

#include "core/buffer.h"
#include "core/env.h"
#include "core/error.h"
#include "kernels/work_split.h"

namespace qfrt {

namespace {
int64_t groups64(int64_t C) { return (C + 63) / 64; }
int plane_count(bool xnor, int planes) { return xnor ? 2 : planes; }
}  // namespace

void pack_channel_bits_pixels(const uint8_t* x, int64_t C, int64_t HW, int64_t p0, int64_t p1, bool x_signed, uint8_t lo, int planes,
                              bool xnor, uint64_t* out, int32_t* pixpop) {
  const int64_t G = groups64(C);
  const int P = plane_count(xnor, planes);
  std::fill(out + p0 * G * P, out + p1 * G * P, uint64_t{0});
  const uint8_t flip = x_signed ? 0x80 : 0;
  for (int64_t c = 0; c < C; ++c) {
    const uint64_t bit = uint64_t{1} << (c % 64);
    for (int64_t p = p0; p < p1; ++p) {
      const uint8_t u = static_cast<uint8_t>((x[c * HW + p] ^ flip) - lo);
      uint64_t* w = out + (p * G + c / 64) * P;
      if (xnor) {
        if (static_cast<int8_t>(u) > 0) w[0] |= bit;
        if (u != 0) w[1] |= bit;
      } else {
        for (int i = 0; i < P; ++i)
          if (u >> i & 1) w[i] |= bit;
      }
    }
  }
  if (pixpop)
    for (int64_t p = p0; p < p1; ++p) pixpop[p] = word_pop(out + p * G * P, G, P, xnor);
}

void pack_channel_bits_scalar(const uint8_t* x, int64_t C, int64_t HW, bool x_signed, uint8_t lo, int planes, bool xnor, uint64_t* out,
                              int32_t* pixpop) {
  pack_channel_bits_pixels(x, C, HW, 0, HW, x_signed, lo, planes, xnor, out, pixpop);
}

void pack_channel_bits(Isa isa, const uint8_t* x, int64_t C, int64_t HW, bool x_signed, uint8_t lo, int planes, bool xnor, uint64_t* out,
                       int32_t* pixpop) {
  if (isa == Isa::Avx512Vnni && bitserial_avx512_available())
    return pack_channel_bits_avx512(x, C, HW, x_signed, lo, planes, xnor, out, pixpop);
  pack_channel_bits_scalar(x, C, HW, x_signed, lo, planes, xnor, out, pixpop);
}

namespace {
// The output columns col0 .. col0 + cols - 1 of one kernel tap, cut into runs: f(j0, n, p0, ps) for n columns
// from j0 whose input pixels are p0, p0 + ps, ... (p0 < 0: outside the image, the padding). One run per
// stretch of an output row, so the per-column work is a load, not a bounds check.
template <class F> void tap_runs(const ConvGeom& g, int64_t ky, int64_t kx, int64_t col0, int64_t cols, F f) {
  const int64_t off = kx * g.dw - g.pl;  // ix = ox * sw + off
  const int64_t ox_lo = off >= 0 ? 0 : (-off + g.sw - 1) / g.sw;
  const int64_t ox_end = g.W - 1 - off < 0 ? 0 : (g.W - 1 - off) / g.sw + 1;  // first ox past the image
  int64_t j = 0, oy = col0 / g.OW, ox = col0 % g.OW;
  while (j < cols) {
    const int64_t n = std::min(g.OW - ox, cols - j);
    const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
    if (iy < 0 || iy >= g.H) {
      f(j, n, int64_t{-1}, int64_t{0});
    } else {
      const int64_t a = std::clamp(ox_lo, ox, ox + n), b = std::clamp(ox_end, a, ox + n);  // [a, b) inside
      if (a > ox) f(j, a - ox, int64_t{-1}, int64_t{0});
      if (b > a) f(j + a - ox, b - a, iy * g.W + a * g.sw + off, g.sw);
      if (ox + n > b) f(j + b - ox, ox + n - b, int64_t{-1}, int64_t{0});
    }
    j += n, ox = 0, ++oy;
  }
}
}  // namespace

void bit_im2col(const uint64_t* cb, const int32_t* pixpop, const ConvGeom& g, int64_t G, int P, bool xnor, const uint64_t* pad_words,
                int64_t col0, int64_t cols, BitActs& a) {
  const bool dense = channel_bits_dense(g.C);  // 64 / C taps per word
  a.xnor = xnor;
  a.abits = P;
  a.nw = dense ? (g.kh * g.kw * g.C + 63) / 64 : g.kh * g.kw * G;
  a.ncp = bit_cols_padded(cols);
  if (dense) a.planes.assign(static_cast<size_t>(a.nw * P * a.ncp), 0);  // taps are OR-ed in
  else a.planes.resize(static_cast<size_t>(a.nw * P * a.ncp));
  a.colpop.assign(static_cast<size_t>(a.ncp), 0);
  const int64_t GP = G * P, ncp = a.ncp;
  const int32_t pad_pop = pixpop ? word_pop(pad_words, G, P, xnor) : 0;
  int32_t* colpop = a.colpop.data();
  auto count = [&](int64_t j0, int64_t n, int64_t p0, int64_t ps) {
    if (!pixpop) return;
    for (int64_t t = 0; t < n; ++t) colpop[j0 + t] += p0 < 0 ? pad_pop : pixpop[p0 + t * ps];
  };
  for (int64_t ky = 0; ky < g.kh; ++ky)
    for (int64_t kx = 0; kx < g.kw; ++kx) {
      const int64_t tap = ky * g.kw + kx;
      if (dense) {  // this tap's C bits at bit tap * C of the column's K
        const int64_t w = tap * g.C / 64, shift = tap * g.C % 64;
        uint64_t* rows = a.planes.data() + w * P * ncp;
        tap_runs(g, ky, kx, col0, cols, [&](int64_t j0, int64_t n, int64_t p0, int64_t ps) {
          for (int i = 0; i < P; ++i) {
            uint64_t* row = rows + i * ncp + j0;
            if (p0 < 0) {
              const uint64_t v = pad_words[i] << shift;
              if (v)
                for (int64_t t = 0; t < n; ++t) row[t] |= v;
            } else {
              const uint64_t* src = cb + p0 * GP + i;
              for (int64_t t = 0; t < n; ++t) row[t] |= src[t * ps * GP] << shift;
            }
          }
          count(j0, n, p0, ps);
        });
        continue;
      }
      uint64_t* rows = a.planes.data() + tap * GP * ncp;  // rows (w, i) of this tap, w = tap * G + group
      tap_runs(g, ky, kx, col0, cols, [&](int64_t j0, int64_t n, int64_t p0, int64_t ps) {
        for (int64_t r = 0; r < GP; ++r) {
          uint64_t* row = rows + r * ncp + j0;
          if (p0 < 0) {
            std::fill(row, row + n, pad_words[r]);
          } else {
            const uint64_t* src = cb + p0 * GP + r;
            for (int64_t t = 0; t < n; ++t) row[t] = src[t * ps * GP];
          }
        }
        count(j0, n, p0, ps);
      });
      for (int64_t r = 0; r < GP; ++r) std::fill(rows + r * ncp + cols, rows + (r + 1) * ncp, uint64_t{0});
    }
}

void enable_channel_bits(QLayer& L, int64_t C, int64_t kh, int64_t kw) {
  if (!L.bits.wbits || L.sign_select || !L.row_wzp.empty() || C * kh * kw != L.K || L.K == 0) return;
  if (!channel_bits_worth(C)) return;
  const int64_t G = groups64(C);
  const int64_t Cs = channel_bits_dense(C) ? C : G * 64;  // the K stride of one tap
  const int64_t Kc = (kh * kw * Cs + 63) / 64 * 64;
  // Weights in (ky, kx, channel) order; padded channels meet zero activation bits, so their weight only
  // has to be one the form can hold (binary has no 0) and stay out of the row sums.
  std::vector<int8_t> w(static_cast<size_t>(L.M * Kc), static_cast<int8_t>(L.bits.binary ? 1 : 0));
  for (int64_t m = 0; m < L.M; ++m)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t ky = 0; ky < kh; ++ky)
        for (int64_t kx = 0; kx < kw; ++kx)
          w[static_cast<size_t>(m * Kc + (ky * kw + kx) * Cs + c)] = L.A[static_cast<size_t>(m * L.Kp + (c * kh + ky) * kw + kx)];
  BitWeights bw = L.bits.xnor ? make_xnor_weights(w.data(), L.M, Kc, L.bits.binary) : make_bit_weights(w.data(), L.M, Kc, L.bits.wbits, L.bits.binary);
  bw.rowsum = L.bits.rowsum;
  L.cbits.C = C, L.cbits.G = G, L.cbits.kh = kh, L.cbits.kw = kw;
  L.cbits.w = std::move(bw);
}

bool channel_bits_enabled() {
  static const bool off = env_is_zero("QFORGE_RT_CHANNEL_BITS");
  return !off;
}

bool channel_bits_fits(const QLayer& L, const ConvGeom& g) {
  const ChannelBitWeights& cw = L.cbits;
  return channel_bits_enabled() && cw.G && g.group == 1 && g.C == cw.C && g.kh == cw.kh && g.kw == cw.kw && L.row_wzp.empty() && !L.sign_select;
}

void channel_bits_conv_run(Isa isa, const QLayer& L, const ConvGeom& g, int64_t N, const uint8_t* x, void* yv, const float* residual,
                           uint8_t* yq) {
  const ChannelBitWeights& cw = L.cbits;
  const bool xnor = L.bits.xnor;
  const int P = plane_count(xnor, L.x_bits);
  const uint8_t lo = xnor ? L.pad_u8 : L.x_lo_u8;
  const int64_t HW = g.H * g.W, GP = cw.G * P;
  // Padding's words: the bits of (pad - lo) on the real channels (XNOR: the zero point, all zero).
  std::vector<uint64_t> pad(static_cast<size_t>(GP), 0);
  if (!xnor)
    for (int64_t grp = 0; grp < cw.G; ++grp) {
      const int64_t real = std::min<int64_t>(64, g.C - grp * 64);
      const uint64_t mask = real == 64 ? ~uint64_t{0} : (uint64_t{1} << real) - 1;
      for (int i = 0; i < P; ++i)
        if ((L.pad_u8 - lo) >> i & 1) pad[static_cast<size_t>(grp * P + i)] = mask;
    }
  std::vector<uint64_t, RecyclingAllocator<uint64_t>> cb(static_cast<size_t>(N * HW * GP));
  const bool colpop = cw.w.binary;  // only binary weights' sums use the column counts
  std::vector<int32_t, RecyclingAllocator<int32_t>> pixpop(colpop ? static_cast<size_t>(N * HW) : 0);
  const int64_t ncols = g.OH * g.OW, nblocks = (ncols + kPanelCols - 1) / kPanelCols;
  const bool par = N * ncols * g.M * g.K() > parallel_macs(isa);
  run_items(N, par && N > 1, [&](int64_t n) {
    pack_channel_bits(isa, x + n * g.C * HW, g.C, HW, L.in.is_signed, lo, P, xnor, cb.data() + n * HW * GP,
                      colpop ? pixpop.data() + n * HW : nullptr);
  });
  const size_t esz = L.out.elem_size();
  uint8_t* y = static_cast<uint8_t*>(yv);
  const Split sp = split_work(N, nblocks, g.M, par);
  auto item = [&](int64_t it) {
    const WorkItem w = work_item(sp, it, nblocks, g.M);
    const int64_t n = w.outer, nb = w.nb, m0 = w.m0, rows = w.rows;
    const int64_t col0 = w.b0 * kPanelCols, cols = std::min(nb * kPanelCols, ncols - col0);
    if (rows <= 0 || cols <= 0) return;
    thread_local BitActs acts;
    thread_local std::vector<int32_t> C;
    bit_im2col(cb.data() + n * HW * GP, colpop ? pixpop.data() + n * HW : nullptr, g, cw.G, P, xnor, pad.data(), col0, cols, acts);
    C.resize(static_cast<size_t>(rows * nb * kPanelCols));
    bitserial_gemm(isa, cw.w, m0, rows, acts, cols, lo, C.data(), nb * kPanelCols);
    Epilogue e = L.epilogue(m0);
    if (residual) e.residual = residual + (n * g.M + m0) * ncols + col0;
    if (yq) e.qout = yq + (n * g.M + m0) * ncols + col0;
    run_epilogue(isa, e, C.data(), nb * kPanelCols, rows, cols, y + static_cast<size_t>((n * g.M + m0) * ncols + col0) * esz, ncols, 1);
  };
  run_items(N * sp.chunks * sp.mparts, par, item);
}

}  // namespace qfrt
