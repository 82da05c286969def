// Pooling and residual addition on quantized (u8 / s8) planes, in integers.
#pragma once
#include <cstdint>

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

// Average of (x - zx) over the window (padding counts as a real 0 when count_include_pad), rescaled
// to the output grid: y = clamp(zy + round_half_even(sum * sx / (sy * count))), in fixed point.
template <class TI, class TO>
void avgpool_plane(const TI* x, const PoolGeom& g, double sx, int32_t zx, double sy, int32_t zy, TO* y);

// y = clamp(zy + round((sa (a - za) + sb (b - zb)) / sy)), elementwise over n values, lo/hi the
// output clamp (a fused ReLU raises lo to zy).
template <class TA, class TB, class TO>
void add_q(const TA* a, double sa, int32_t za, const TB* b, double sb, int32_t zb, TO* y, double sy, int32_t zy, int32_t lo,
           int32_t hi, int64_t n);

}  // namespace qfrt
