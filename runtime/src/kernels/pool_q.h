// Pooling and residual addition on quantized (u8 / s8) planes, in integers.
#pragma once
#include <cstdint>

#include <vector>

#include "core/cpu.h"
#include "kernels/requant.h"

namespace qfrt {

struct PoolGeom {
  int64_t H = 0, W = 0, kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pl = 0, pb = 0, pr = 0, OH = 0, OW = 0;
  bool count_include_pad = false;
};

// Max over the window; padding is ignored (ONNX pads MaxPool with -inf). Quantization is monotonic,
// so this equals quantizing the float max exactly. T: uint8, int8 or float (an all-padding window gives
// -inf for float).
template <class T> void maxpool_plane(const T* x, const PoolGeom& g, T* y);
// The same for uint8 / int8 with AVX-512 BW + VBMI (pool_max_avx512.cpp), 64 bytes a step; false (nothing
// written) where it does not apply: dilation, a row stride other than 1 or 2, a CPU without VBMI.
template <class T> bool maxpool_plane_avx512(const T* x, const PoolGeom& g, T* y);

// Average of (x - zx) over the window (padding counts as a real 0 when count_include_pad), rescaled
// to the output grid: y = clamp(zy + round_half_even(sum * sx / (sy * count))), in fixed point.
// by_count[c]: the multiplier sx / (sy c) for c = 1 .. kh kw (avgpool_multipliers, once per layer: per plane,
// they cost 10x the pooling of a 7x7 global average).
std::vector<FixedMultiplier> avgpool_multipliers(const PoolGeom& g, double sx, double sy);
template <class TI, class TO>
void avgpool_plane(const TI* x, const PoolGeom& g, const std::vector<FixedMultiplier>& by_count, int32_t zx, int32_t zy, TO* y);

// The quantized Add y = clamp(zy + round_half_even((sa (a - za) + sb (b - zb)) / sy)) in fixed point:
// (a - za) ma + (b - zb) mb >> shift, with ma, mb = round(sa / sy 2^shift), round(sb / sy 2^shift) below
// 2^31 (one vpmuldq each); like requantization, it differs from the real formula only within ~2^-31
// relative of a .5 tie. Throws Error for scales that are not positive and finite or too far apart.
struct AddRescale {
  int64_t ma = 0, mb = 0;
  int shift = 0;
};
AddRescale add_rescale(double sa, double sb, double sy);

// Elementwise over n values. The bytes of a, b (and y) are int8 when *_signed, else uint8; [lo, hi] is the
// output clamp in the output's type (a fused ReLU raises lo to zy). isa: AVX-512 where available; the
// scalar loop is the reference (bit-identical).
void add_q(Isa isa, const uint8_t* a, bool a_signed, int32_t za, const uint8_t* b, bool b_signed, int32_t zb, const AddRescale& r,
           int32_t zy, int32_t lo, int32_t hi, uint8_t* y, int64_t n);
void add_q_scalar(const uint8_t* a, bool a_signed, int32_t za, const uint8_t* b, bool b_signed, int32_t zb, const AddRescale& r,
                  int32_t zy, int32_t lo, int32_t hi, uint8_t* y, int64_t n);
void add_q_avx512(const uint8_t* a, bool a_signed, int32_t za, const uint8_t* b, bool b_signed, int32_t zb, const AddRescale& r,
                  int32_t zy, int32_t lo, int32_t hi, uint8_t* y, int64_t n);

}  // namespace qfrt
