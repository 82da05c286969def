// Stride-1 convolution without im2col. The input is rearranged once per layer into a channel-
// blocked buffer: for each group of 4 channels a padded plane [Hp][Wp][4 channels]. Output pixel
// (oh, ow) becomes column p = oh * Wp + ow ("wide" columns: ow runs up to Wp, the extra kw - 1
// columns per row are computed and dropped), and for every tap (i, j) and channel group the 16
// columns p0 .. p0 + 15 read 64 contiguous bytes at offset (p0 + i*dh*Wp + j*dw) * 4 of that group's
// plane -- exactly the operand vpdpbusd wants, so the GEMM reads the activations in place
// (gemm_u8s8_blocked_avx512vnni). It replaces im2col's kh*kw-fold copy and interleave with one
// pass over the input, at the price of the dropped columns: chosen for kernels larger than 1x1 where
// those are at most 1/4.
// A stride-2 conv runs the same way on 2x2 space-to-depth phases: output (oh, ow) reads phase
// (i % 2, j % 2) of the padded input at (oh + i / 2, ow + j / 2). Two forms of the 4-byte group:
//  - channel form (3x3, and whenever channels fill their groups better): 4 channels, as at stride 1,
//    with 4 phase planes per channel group; no extra MACs;
//  - phase-byte form (a 7x7 / 5x5 stem on 3 channels): one channel's 4 phases, a stride-1 conv with
//    kernel ceil(kh/2) x ceil(kw/2) -- 1.31x the MACs at 7x7, but 3 channels would waste 1/4 of a group.
#pragma once
#include <cstdint>

#include "core/cpu.h"
#include "kernels/qlayer.h"

namespace qfrt {

// Weights reordered for the blocked form ([M][C4 * kh * kw * 4], k-group q = (channel group, i, j),
// channels past Cg zero; in the phase-byte form, q = (channel, i / 2, j / 2)) when the layer is a plain int8 GEMM with
// symmetric weights; otherwise the layer is left as it is. Cg, kh, kw: the weight's dims 1-3; stride:
// the conv's (when both strides are equal; the path runs only for the stride it was prepared for).
void enable_blocked_conv(QLayer& L, int64_t Cg, int64_t kh, int64_t kw, int64_t stride = 1);

// Whether C4 channel groups fill whole chunks of the AMX tiles (gemm_amx.h): 16 groups and multiples, or
// 4 / 8 groups as 16- / 32-byte chunks. Such convs keep a tap-major tile copy of their weights.
bool amx_channel_chunks(int64_t C4);

// Whether qconv_run takes the blocked path for this geometry. QFORGE_RT_BLOCKED=0 turns it off.
bool blocked_conv_fits(Isa isa, const QLayer& L, const ConvGeom& g);

// The phase-byte form with a 4x4 GEMM kernel (7x7 / 8x8 stride-2 stems): its channels' 16 taps fill one AMX
// chunk, so on AMX CPUs enable_blocked_conv keeps a tile copy of its weights and blocked_conv_run hands it to
// shifted_rows_conv_run (conv_shifted_rows.cpp), which reads the phase planes `phases` ([N][C][px][4], px
// pixels per plane) through row-shifted copies.
bool shifted_rows_fit(const BlockedWeights& b);
struct PhaseGeom;
void shifted_rows_conv_run(Isa isa, const QLayer& L, const ConvGeom& g, const PhaseGeom& pg, int64_t px, const uint8_t* phases, int64_t N,
                           uint8_t* y, const float* residual, uint8_t* yq);
// The pixels per phase plane shifted_rows_conv_run reads: its copies' rows reach whole column blocks past the
// last kept column.
int64_t shifted_rows_pixels(const ConvGeom& g, const PhaseGeom& pg);

// qconv_run's contract (y [N][M][OH][OW], optional float residual and quantized copy yq) on the blocked path.
void blocked_conv_run(Isa isa, const QLayer& L, const ConvGeom& g, int64_t N, const uint8_t* x, void* y, const float* residual,
                      uint8_t* yq);

}  // namespace qfrt
