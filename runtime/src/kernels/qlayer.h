// An integer Conv / Gemm layer: int8 weights prepared once (padded rows, row sums folded into the
// bias, fixed-point multipliers), then run on u8/s8 activations with any of the three epilogues.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/cpu.h"
#include "kernels/bitserial.h"
#include "kernels/epilogue.h"
#include "kernels/gemm_amx.h"
#include "kernels/pack_panel.h"

namespace qfrt {

struct QWeights {  // one row per output channel
  int64_t M = 0, K = 0;
  std::vector<int8_t> w;     // [M][K]; uint8 weights are stored as w - 128 with zero point zp - 128
  std::vector<int32_t> zp;   // [M]
  std::vector<double> scale; // [M]
};

struct QInput {
  double scale = 1;
  int32_t zp = 0;  // in the input's own type (int8 or uint8)
  bool is_signed = false;
};

struct QOutput {
  Epilogue::Kind kind = Epilogue::Int32;
  double scale = 1;                         // Quantized
  int32_t zp = 0, lo = 0, hi = 255;         // Quantized, in the output type's range
  std::vector<int32_t> row_hi;              // Quantized: a per-channel upper clamp (each <= hi), or empty
  bool is_signed = false;                   // Quantized: int8 output
  bool relu = false;                        // Float: ReLU after the (optional) residual
  // Float: a second, quantized output (a fused QuantizeLinear; Epilogue::qout): scale, zero point, clamp.
  bool fused_q = false;
  float q_scale = 1;
  int32_t q_zp = 0, q_lo = 0, q_hi = 255;
  size_t elem_size() const { return kind == Epilogue::Quantized ? 1 : 4; }
};

// Weights of a conv for the channel-blocked path (conv_blocked.h); kh == 0: not prepared.
struct BlockedWeights {
  int64_t stride = 1;                      // the conv's stride (both axes) the path was prepared for
  bool phase_bytes = false;                // stride 2: a channel's 2x2 phases fill the 4-byte group
  int64_t orig_kh = 0, orig_kw = 0;        // the layer's kernel
  int64_t C4 = 0, kh = 0, kw = 0, Kp = 0;  // the GEMM's: channel groups, kernel, Kp = C4 * kh * kw * 4
  std::vector<int8_t> A;                   // [M][Kp]
  AmxWeights amx;                          // A in tap-major k order (enable_blocked_conv, when amx_channel_chunks(C4))
};

// A bit-serial conv's weights for the channel-packed path (channel_bits.h): K in (ky, kx, channel) order,
// channels rounded up to 64. G == 0: not prepared.
struct ChannelBitWeights {
  int64_t C = 0, G = 0, kh = 0, kw = 0;
  BitWeights w;
};

struct QLayer {
  int64_t M = 0, K = 0, Kp = 0;
  std::vector<int8_t> A;              // [M][Kp]
  std::vector<int32_t> row_offset;    // [M]
  std::vector<int32_t> row_wzp;       // [M], empty when all weight zero points are 0
  std::vector<FixedMultiplier> mult;  // [M] (Quantized)
  std::vector<int64_t> bias_fixed;    // [M] (Quantized with a float bias), else empty
  std::vector<RequantRowParams> rq;   // [M] (Quantized, every shift in AVX-512's range): the rows' constants, else empty
  std::vector<float> fscale, fbias;   // [M] (Float)
  QInput in;
  QOutput out;
  uint8_t pad_u8 = 0;                 // the input zero point after the int8 -> uint8 shift
  // Bit-serial path (enable_bitserial): weights as bit planes; inputs (as uint8) in [x_lo_u8, + 2^x_bits).
  BitWeights bits;                    // bits.wbits == 0: the int8 GEMM
  int x_bits = 0;
  uint8_t x_lo_u8 = 0;
  bool sign_select = false;           // bits in the XNOR form, run by sign_select_gemm on 8-bit inputs
  AmxWeights amx;                     // A for the tiles (enable_amx_gemm)
  BlockedWeights blocked;             // enable_blocked_conv (conv_blocked.h)
  ChannelBitWeights cbits;            // enable_channel_bits (channel_bits.h)
  Epilogue epilogue(int64_t m0) const;  // for rows m0..
};

// bias_int (QLinearConv's B, scale sx*sw) and bias_f (a float bias of a QDQ layer) may be empty.
QLayer prepare_qlayer(const QWeights& w, const QInput& in, const std::vector<int32_t>& bias_int,
                      const std::vector<float>& bias_f, const QOutput& out);

// Switches a prepared layer to the bit-serial kernel when its weights hold in wbits (1 = binary +-1,
// 2, 4), its inputs lie in [x_lo, x_lo + 2^x_bits) (x_lo in the input's own type) and padding (the
// zero point) is inside that range. QFORGE_RT_LOWBIT=0 never switches, =all switches whenever it is
// exact, default (auto) only where it beats the int8 path: wbits x x_bits <= 2 and >= 128 output
// channels; for a conv with C input channels that can take the channel-packed path (channel_bits.h),
// <= 2 from 64 output channels and W2A2 from 128; where the int8 path runs on AMX tiles (cpu_has_amx, C = 0
// or channels that fill the tiles' chunks, amx_channel_chunks), products <= 2 from 128 input and output channels only. C = 0: not such a conv.
// Returns whether it switched.
bool enable_bitserial(QLayer& L, int wbits, bool binary, int x_bits, int64_t x_lo, int64_t C = 0);
// The XNOR form for binary / ternary weights when the inputs lie in [zp - 1, zp + 1] (binary or
// ternary activations around the zero point; padding, the zero point, then counts as 0). Same
// QFORGE_RT_LOWBIT policy, as a product of 1.
bool enable_xnor(QLayer& L, bool binary, int64_t x_lo, int64_t x_hi, int64_t C = 0);
// Sign-select for binary / ternary weights with any 8-bit inputs. vpdpbusd does 64 MACs an
// instruction against its 3 per 64, so only QFORGE_RT_LOWBIT=all picks it on a VNNI CPU (it keeps the
// weights at 1-2 bits in memory).
bool enable_sign_select(QLayer& L, bool binary);

// On a CPU with AMX (cpu_has_amx), gives a plain int8 GEMM layer its tile copy of the weights, so its
// panels run on the tiles; not for bit-serial / sign-select layers or convs whose blocked path has its own.
void enable_amx_gemm(QLayer& L);

// y [N][M][OH][OW] from x [N][C][H][W] (bytes of the input type). Uses the depthwise kernel when
// group == C == M and weight zero points are 0, the channel-blocked GEMM where blocked_conv_fits
// (conv_blocked.h), else im2col panels and the GEMM. Both cores.
// residual (Float output only, nullable): a float tensor of y's shape added before the ReLU.
// yq (Float output with out.fused_q only, nullable): y quantized, one byte per value.
void qconv_run(Isa isa, const QLayer& L, const ConvGeom& g, int64_t N, const uint8_t* x, void* y,
               const float* residual = nullptr, uint8_t* yq = nullptr);

// y [rows][M] = x [rows][K] times the layer's weights (rows of x are the GEMM's columns).
void qgemm_run(Isa isa, const QLayer& L, int64_t rows, const uint8_t* x, void* y);

}  // namespace qfrt
