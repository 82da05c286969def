#include "kernels/qlayer.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/buffer.h"
#include "core/env.h"
#include "core/error.h"
#include "core/parallel.h"
#include "kernels/channel_bits.h"
#include "kernels/conv_blocked.h"
#include "kernels/depthwise.h"
#include "kernels/gemm.h"
#include "kernels/work_split.h"

namespace qfrt {

namespace {
// auto mode: bit-serial only where weight bits x activation bits is at most this and the layer has
// at least kBitserialAutoMinRows output channels to amortize building the activation planes
// (qforge-rt-bench-lowbit, one 3x3 layer against the int8 path the runtime would take: at 128
// channels 28x28 W2A1 / Wbin A2 1.05x, Wbin A1 1.27x, W2A2 0.81x; at 64 channels 56x56 every
// low-bit form was slower; at 256 channels 14x14 W2A1 1.33x, Wbin A1 1.7x, W2A2 1.0x).
constexpr int kBitserialAutoMaxBits = 2;
constexpr int64_t kBitserialAutoMinRows = 128;
// The channel-packed path (channel_bits.h) builds its planes for much less, so it pays from 64 output
// channels, and W2A2 from 128 (same bench against the int8 blocked layer: binary x 1-bit 1.5x at 64
// channels 56x56, 2.0x at 64 x 8x8, 2.2x at 128 x 28x28, 3.7x at 256 x 14x14; W2A2 0.85x at 64 x 56x56,
// 1.04x at 128 x 28x28, 1.3x at 128 x 7x7, 1.4x at 256 x 14x14).
// Below 64 input channels (the dense form, C dividing 64) from 32: binary x 1-bit at 32 -> 128 channels on
// 14x14 1.75x, at 16 -> 64 on 28x28 1.0x.
constexpr int64_t kChannelPackedAutoMinRows = 64;
constexpr int64_t kChannelPackedW2A2MinRows = 128;
constexpr int64_t kChannelPackedAutoMinChannels = 32;
// Where the int8 alternative runs on AMX tiles (gemm_amx.h: convs whose channel groups fill chunks, and
// every panel layer) it is 1.5-3x faster than on vpdpbusd, so the bar moves (same bench against the int8
// blocked AMX layer, 2026-11-30: binary x 1-bit 0.56x at 64 channels 56x56, 1.12x at 128 x 28x28, 1.90x at
// 256 x 14x14, 2.04x at 512 x 7x7, 0.68x at 32 -> 64 x 28x28; W2A2 0.29-0.72x everywhere): products <= 2 from
// 128 input and output channels, W2A2 and panel layers never.
constexpr int64_t kAmxBitsAutoMinChannels = 128;

struct Scratch {
  std::vector<uint8_t> panel;
  std::vector<int32_t> C, colsum;
  BitActs bits;
};

// Whether layer_gemm runs L's int8 GEMM on the AMX tiles.
bool panel_on_tiles(Isa isa, const QLayer& L) { return !L.amx.empty() && amx_active(isa); }

// C (ldc = nb * 16) = weights rows m0.. x the panel's `cols` columns, on the layer's kernel.
void layer_gemm(Isa isa, const QLayer& L, int64_t m0, int64_t rows, Scratch& s, int64_t nb, int64_t cols) {
  if (L.sign_select)
    return sign_select_gemm(isa, L.bits, m0, rows, s.panel.data(), L.K, L.Kp, cols, s.bits, s.C.data(), nb * kPanelCols);
  if (L.bits.xnor) {
    xnor_acts_from_panel(isa, s.panel.data(), L.K, L.Kp, cols, L.pad_u8, s.bits);
    return bitserial_gemm(isa, L.bits, m0, rows, s.bits, cols, L.pad_u8, s.C.data(), nb * kPanelCols);
  }
  if (L.bits.wbits) {
    bit_acts_from_panel(isa, s.panel.data(), L.K, L.Kp, cols, L.x_lo_u8, L.x_bits, s.bits);
    return bitserial_gemm(isa, L.bits, m0, rows, s.bits, cols, L.x_lo_u8, s.C.data(), nb * kPanelCols);
  }
  if (panel_on_tiles(isa, L))
    return gemm_u8s8_amx(L.amx, m0, rows, AmxSource{s.panel.data(), L.Kp * kPanelCols, 64, nullptr}, nb, s.C.data(), nb * kPanelCols);
  GemmArgs a{L.A.data() + m0 * L.Kp, rows, L.Kp, s.panel.data(), nb, s.C.data(), nb * kPanelCols};
  gemm_u8s8(isa, a);
}

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

}  // namespace

Epilogue QLayer::epilogue(int64_t m0) const {
  Epilogue e;
  e.kind = out.kind;
  e.row_offset = row_offset.data() + m0;
  e.row_wzp = row_wzp.empty() ? nullptr : row_wzp.data() + m0;
  if (out.kind == Epilogue::Quantized) e.mult = mult.data() + m0;
  if (!bias_fixed.empty()) e.bias_fixed = bias_fixed.data() + m0;
  if (!rq.empty()) e.rq = rq.data() + m0;
  e.zp = out.zp;
  e.lo = out.lo;
  e.hi = out.hi;
  e.row_hi = out.row_hi.empty() ? nullptr : out.row_hi.data() + m0;
  e.out_signed = out.is_signed;
  e.relu = out.relu;
  if (out.kind == Epilogue::Float) {
    e.scale = fscale.data() + m0;
    e.bias = fbias.empty() ? nullptr : fbias.data() + m0;
    e.q_scale = out.q_scale, e.q_zp = out.q_zp, e.q_lo = out.q_lo, e.q_hi = out.q_hi;  // used when the caller sets qout
  }
  return e;
}

QLayer prepare_qlayer(const QWeights& w, const QInput& in, const std::vector<int32_t>& bias_int,
                      const std::vector<float>& bias_f, const QOutput& out) {
  QLayer L;
  L.M = w.M;
  L.K = w.K;
  L.Kp = round_up(w.K, 4);
  L.in = in;
  L.out = out;
  const int32_t zx = in.zp + (in.is_signed ? 128 : 0);
  if (zx < 0 || zx > 255) fail("input zero point out of range");
  L.pad_u8 = static_cast<uint8_t>(zx);
  L.A.assign(static_cast<size_t>(L.M * L.Kp), 0);
  L.row_offset.resize(static_cast<size_t>(L.M));
  bool any_wzp = false;
  for (int64_t m = 0; m < L.M; ++m) {
    int64_t rowsum = 0;
    for (int64_t k = 0; k < L.K; ++k) {
      L.A[static_cast<size_t>(m * L.Kp + k)] = w.w[static_cast<size_t>(m * L.K + k)];
      rowsum += w.w[static_cast<size_t>(m * L.K + k)];
    }
    const int64_t zw = w.zp[static_cast<size_t>(m)];
    any_wzp |= zw != 0;
    const double sxw = in.scale * w.scale[static_cast<size_t>(m)];
    int64_t off = -int64_t{zx} * rowsum + L.K * zx * zw;
    if (out.kind != Epilogue::Int32) {
      if (!bias_int.empty()) off += bias_int[static_cast<size_t>(m)];
    }
    if (off < INT32_MIN || off > INT32_MAX) fail("zero-point compensation overflows int32");
    L.row_offset[static_cast<size_t>(m)] = static_cast<int32_t>(off);
    if (out.kind == Epilogue::Quantized) {
      L.mult.push_back(quantize_multiplier(sxw / out.scale));
      if (!bias_f.empty()) L.bias_fixed.push_back(fixed_bias(bias_f[static_cast<size_t>(m)] / out.scale, L.mult.back()));
    }
    if (out.kind == Epilogue::Float) {
      L.fscale.push_back(static_cast<float>(sxw));
      if (!bias_f.empty()) L.fbias.push_back(bias_f[static_cast<size_t>(m)]);
    }
  }
  if (any_wzp) L.row_wzp = w.zp;
  if (out.kind == Epilogue::Quantized) requant_rows_params(L.epilogue(0), L.M, L.rq);  // empty where a shift does not fit
  return L;
}

namespace {
enum class LowbitMode { Off, Auto, All };
// Auto also needs the AVX-512 popcount kernels: the scalar references are for tests, not speed.
bool fast_popcount() { return active_isa() == Isa::Avx512Vnni && bitserial_avx512_available(); }
// Auto mode's choice for a layer of weight bits x activation bits `product` (XNOR form: 1); C > 0: a
// conv with C input channels, which may take the channel-packed path.
bool auto_takes(const QLayer& L, int product, int64_t C) {
  if (!fast_popcount()) return false;
  const bool packable = C >= kChannelPackedAutoMinChannels && L.row_wzp.empty() && channel_bits_worth(C) && channel_bits_enabled();
  if (cpu_has_amx() && (C == 0 || amx_channel_chunks((C + 3) / 4)))
    return packable && C >= kAmxBitsAutoMinChannels && L.M >= kAmxBitsAutoMinChannels && product <= kBitserialAutoMaxBits;
  if (packable)
    return product <= kBitserialAutoMaxBits ? L.M >= kChannelPackedAutoMinRows : product <= 4 && L.M >= kChannelPackedW2A2MinRows;
  return product <= kBitserialAutoMaxBits && L.M >= kBitserialAutoMinRows;
}
LowbitMode lowbit_mode() {
  const char* e = std::getenv("QFORGE_RT_LOWBIT");
  const std::string v = e ? e : "";
  if (v == "0" || v == "off") return LowbitMode::Off;
  if (v == "all") return LowbitMode::All;
  if (v.empty() || v == "auto") return LowbitMode::Auto;
  fail("QFORGE_RT_LOWBIT='" + v + "' is not one of 0, auto, all");
}
}  // namespace

namespace {
// The layer's weights as [M][K] when every one lies in [lo, hi] (and is nonzero when asked), else empty.
std::vector<int8_t> weights_within(const QLayer& L, int lo, int hi, bool nonzero) {
  std::vector<int8_t> w(static_cast<size_t>(L.M * L.K));
  for (int64_t m = 0; m < L.M; ++m)
    for (int64_t k = 0; k < L.K; ++k) {
      const int8_t v = L.A[static_cast<size_t>(m * L.Kp + k)];
      if (v < lo || v > hi || (nonzero && v == 0)) return {};
      w[static_cast<size_t>(m * L.K + k)] = v;
    }
  return w;
}
}  // namespace

bool enable_xnor(QLayer& L, bool binary, int64_t x_lo, int64_t x_hi, int64_t C) {
  const LowbitMode mode = lowbit_mode();
  if (mode == LowbitMode::Off || (mode == LowbitMode::Auto && !auto_takes(L, 1, C))) return false;
  if (x_lo < L.in.zp - 1 || x_hi > L.in.zp + 1 || L.M * L.K == 0) return false;
  const std::vector<int8_t> w = weights_within(L, -1, 1, binary);
  if (w.empty()) return false;
  L.bits = make_xnor_weights(w.data(), L.M, L.K, binary);
  L.x_bits = 2;
  L.x_lo_u8 = L.pad_u8;
  return true;
}

bool enable_sign_select(QLayer& L, bool binary) {
  if (lowbit_mode() != LowbitMode::All || L.M * L.K == 0) return false;
  const std::vector<int8_t> w = weights_within(L, -1, 1, binary);
  if (w.empty()) return false;
  L.bits = make_xnor_weights(w.data(), L.M, L.K, binary);
  L.sign_select = true;
  return true;
}

bool enable_bitserial(QLayer& L, int wbits, bool binary, int x_bits, int64_t x_lo, int64_t C) {
  const LowbitMode mode = lowbit_mode();
  if (mode == LowbitMode::Off || !(wbits == 1 || wbits == 2 || wbits == 4) || !(x_bits == 1 || x_bits == 2 || x_bits == 4)) return false;
  if (mode == LowbitMode::Auto && !auto_takes(L, wbits * x_bits, C)) return false;
  const int64_t lo = x_lo + (L.in.is_signed ? 128 : 0);
  if (lo < 0 || lo + (1 << x_bits) - 1 > 255) return false;
  if (L.pad_u8 < lo || L.pad_u8 > lo + (1 << x_bits) - 1) return false;  // padding would not be a real 0
  // The weights must really fit (the widths come from the graph; this keeps the switch exact anyway).
  const std::vector<int8_t> w = weights_within(L, binary ? -1 : -(1 << (wbits - 1)), binary ? 1 : (1 << (wbits - 1)) - 1, binary);
  if (w.empty() || L.M * L.K == 0) return false;
  L.bits = make_bit_weights(w.data(), L.M, L.K, wbits, binary);
  L.x_bits = x_bits;
  L.x_lo_u8 = static_cast<uint8_t>(lo);
  return true;
}

namespace {
void depthwise_run(Isa isa, const QLayer& L, const ConvGeom& g, int64_t N, const uint8_t* x, uint8_t* y, const float* residual,
                   uint8_t* yq) {
  const size_t esz = L.out.elem_size();
  DwGeom d;
  d.Hp = g.H + g.pt + g.pb;
  d.Wp = g.W + g.pl + g.pr;
  d.kh = g.kh, d.kw = g.kw, d.sh = g.sh, d.sw = g.sw, d.dh = g.dh, d.dw = g.dw, d.OH = g.OH, d.OW = g.OW;
  const uint8_t flip = L.in.is_signed ? 0x80 : 0;
  const bool par = N * g.C * g.OH * g.OW * g.kh * g.kw > kParallelMacs;
  // Output rows per depthwise call, then their epilogue: the int32 sums (~8 KB) stay in L1.
  const int64_t rows = std::max<int64_t>(1, 2048 / std::max<int64_t>(g.OW, 1));
  // The requantization fused into the kernel (depthwise.h) where the output is plain quantized codes.
  // QFORGE_RT_DW_FUSED=0: the kernel and epilogue as separate passes (A/B checks).
  static const bool fused_off = env_is_zero("QFORGE_RT_DW_FUSED");
  DwFusedPlan fp;
  const bool fused = isa == Isa::Avx512Vnni && !L.rq.empty() && !residual && !yq && !fused_off &&
                     make_dw_fused_plan(d, g.H, g.W, g.pt, g.pl, &fp);
  auto plane = [&](int64_t nc) {
    const int64_t c = nc % g.C;
    if (fused)
      return depthwise_fused_plane(fp, x + nc * g.H * g.W, L.A.data() + c * L.Kp, L.pad_u8, flip, L.rq[static_cast<size_t>(c)],
                                   y + nc * g.OH * g.OW);
    Scratch& s = scratch();
    s.C.resize(static_cast<size_t>(std::min(rows, g.OH) * g.OW));
    s.panel.resize(static_cast<size_t>(d.Hp * d.Wp + kDepthwiseSlack));
    pad_plane(isa, x + nc * g.H * g.W, g.H, g.W, g.pt, g.pl, d, L.pad_u8, flip, s.panel.data());
    for (int64_t r0 = 0; r0 < g.OH; r0 += rows) {
      DwGeom dr = d;  // rows r0 .. of the output read the plane from row r0 * sh
      dr.OH = std::min(rows, g.OH - r0);
      depthwise(isa, s.panel.data() + r0 * d.sh * d.Wp, L.A.data() + c * L.Kp, dr, s.C.data());
      const int64_t at = nc * g.OH * g.OW + r0 * g.OW;
      Epilogue e = L.epilogue(c);
      if (residual) e.residual = residual + at;
      if (yq) e.qout = yq + at;
      run_epilogue(isa, e, s.C.data(), 0, 1, dr.OH * g.OW, y + static_cast<size_t>(at) * esz, 0, 1);
    }
  };
  run_items(N * g.C, par, plane);
}
}  // namespace

void enable_amx_gemm(QLayer& L) {
  if (!cpu_has_amx() || L.bits.wbits || L.sign_select || !L.blocked.amx.empty() || L.K == 0) return;
  L.amx = make_amx_weights(L.A.data(), L.M, L.Kp);
}

void qconv_run(Isa isa, const QLayer& L, const ConvGeom& g, int64_t N, const uint8_t* x, void* yv, const float* residual,
               uint8_t* yq) {
  if (residual && L.out.kind != Epilogue::Float) fail("a residual input needs a float output");
  if (yq && !(L.out.kind == Epilogue::Float && L.out.fused_q)) fail("a quantized second output needs a float output with fused_q");
  uint8_t* y = static_cast<uint8_t*>(yv);
  if (g.K() != L.K || g.M != L.M) fail("conv geometry does not match its weights");
  if (g.group == g.C && g.M == g.C && L.row_wzp.empty()) return depthwise_run(isa, L, g, N, x, y, residual, yq);
  if (blocked_conv_fits(isa, L, g)) return blocked_conv_run(isa, L, g, N, x, y, residual, yq);
  if (channel_bits_fits(L, g)) return channel_bits_conv_run(isa, L, g, N, x, y, residual, yq);
  const size_t esz = L.out.elem_size();
  // Padding once, up front, turns every im2col row into plain copies (pack_panel.cpp's fast path).
  std::vector<uint8_t, RecyclingAllocator<uint8_t>> padded;
  ConvGeom pg = g;
  if (g.pt || g.pl || g.pb || g.pr) {
    pg.H = g.H + g.pt + g.pb;
    pg.W = g.W + g.pl + g.pr;
    pg.pt = pg.pl = pg.pb = pg.pr = 0;
    padded.resize(static_cast<size_t>(N * g.C * pg.H * pg.W));
    const uint8_t raw_pad = L.in.is_signed ? static_cast<uint8_t>(L.pad_u8 ^ 0x80) : L.pad_u8;
    std::memset(padded.data(), raw_pad, padded.size());
    for (int64_t p = 0; p < N * g.C; ++p)
      for (int64_t h = 0; h < g.H; ++h)
        std::memcpy(padded.data() + (p * pg.H + h + g.pt) * pg.W + g.pl, x + (p * g.H + h) * g.W, static_cast<size_t>(g.W));
    x = padded.data();
  }
  const int64_t ncols = g.OH * g.OW, nblocks = (ncols + kPanelCols - 1) / kPanelCols, Mg = g.Mg();
  const bool par = N * ncols * g.M * g.K() > parallel_macs(isa);
  const Split sp = split_work(N * g.group, nblocks, Mg, par);
  const int64_t items = N * g.group * sp.chunks * sp.mparts;
  auto item = [&](int64_t it) {
    const WorkItem w = work_item(sp, it, nblocks, Mg);
    const int64_t grp = w.outer % g.group, n = w.outer / g.group, nb = w.nb, rows = w.rows;
    const int64_t col0 = w.b0 * kPanelCols, cols = std::min(nb * kPanelCols, ncols - col0);
    const int64_t m0 = grp * Mg + w.m0;
    if (rows <= 0) return;
    // Stripes of rows through GEMM and epilogue (epilogue_stripe); the bit-serial kernels pack their
    // activations inside layer_gemm, once per call, so they take all rows at once.
    const bool int8_gemm = !L.sign_select && !L.bits.wbits;
    const int64_t stripe = int8_gemm ? std::min(rows, epilogue_stripe(panel_on_tiles(isa, L))) : rows;
    Scratch& s = scratch();
    s.panel.resize(static_cast<size_t>(panel_bytes(L.Kp, nb) + kAmxPanelSlack));
    s.C.resize(static_cast<size_t>(stripe * nb * kPanelCols));
    s.colsum.resize(static_cast<size_t>(nb * kPanelCols));
    pack_conv_panel(x + n * g.C * pg.H * pg.W, L.in.is_signed, pg, grp, L.pad_u8, col0, cols, s.panel.data(),
                    L.row_wzp.empty() ? nullptr : s.colsum.data());
    for (int64_t r = 0; r < rows; r += stripe) {
      const int64_t rr = std::min(stripe, rows - r), at = (n * g.M + m0 + r) * ncols + col0;
      layer_gemm(isa, L, m0 + r, rr, s, nb, cols);
      Epilogue e = L.epilogue(m0 + r);
      e.colsum = s.colsum.data();
      if (residual) e.residual = residual + at;
      if (yq) e.qout = yq + at;
      run_epilogue(isa, e, s.C.data(), nb * kPanelCols, rr, cols, y + static_cast<size_t>(at) * esz, ncols, 1);
    }
  };
  run_items(items, par, item);
}

void qgemm_run(Isa isa, const QLayer& L, int64_t rows, const uint8_t* x, void* yv) {
  uint8_t* y = static_cast<uint8_t*>(yv);
  const size_t esz = L.out.elem_size();
  const int64_t nblocks = (rows + kPanelCols - 1) / kPanelCols, chunks = (nblocks + kChunkBlocks - 1) / kChunkBlocks;
  const bool par = rows * L.M * L.K > parallel_macs(isa);
  auto chunk = [&](int64_t ch) {
    const int64_t b0 = ch * kChunkBlocks, nb = std::min(kChunkBlocks, nblocks - b0);
    const int64_t r0 = b0 * kPanelCols, cols = std::min(nb * kPanelCols, rows - r0);
    Scratch& s = scratch();
    s.panel.resize(static_cast<size_t>(panel_bytes(L.Kp, nb) + kAmxPanelSlack));
    s.C.resize(static_cast<size_t>(L.M * nb * kPanelCols));
    s.colsum.resize(static_cast<size_t>(nb * kPanelCols));
    pack_rows_panel(x + r0 * L.K, L.in.is_signed, cols, L.K, L.K, s.panel.data(), L.row_wzp.empty() ? nullptr : s.colsum.data());
    layer_gemm(isa, L, 0, L.M, s, nb, cols);
    Epilogue e = L.epilogue(0);
    e.colsum = s.colsum.data();
    run_epilogue(isa, e, s.C.data(), nb * kPanelCols, L.M, cols, y + static_cast<size_t>(r0 * L.M) * esz, 1, L.M);
  };
  run_items(chunks, par, chunk);
}

}  // namespace qfrt
