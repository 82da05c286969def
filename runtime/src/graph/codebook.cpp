#include "graph/codebook.h"

#include <algorithm>

#include "core/error.h"
#include "core/parallel.h"

namespace qfrt {

Tensor codebook_dequantize(const Node& n, const Tensor& index, const Tensor& levels) {
  if (index.dtype != DType::U8) fail(n.label() + ": the index must be uint8");
  if (levels.dtype != DType::F32 || (levels.rank() != 1 && levels.rank() != 2) || levels.numel() == 0)
    fail(n.label() + ": levels must be float32 [L] or [C, L], got " + shape_str(levels.shape));
  const int64_t L = levels.shape.back(), rows = levels.rank() == 2 ? levels.dim(0) : 1;
  int64_t outer = 1, inner = index.numel();
  if (levels.rank() == 2) {
    int64_t axis = n.i("axis", 0);
    if (axis < 0) axis += index.rank();
    if (axis < 0 || axis >= index.rank() || index.dim(static_cast<int>(axis)) != rows)
      fail(n.label() + ": levels of " + std::to_string(rows) + " rows do not match axis " + std::to_string(n.i("axis", 0)) + " of " +
           shape_str(index.shape));
    inner = 1;
    for (int k = 0; k < axis; ++k) outer *= index.dim(k);
    for (int k = static_cast<int>(axis) + 1; k < index.rank(); ++k) inner *= index.dim(k);
  }
  Tensor y(DType::F32, index.shape);
  const uint8_t* ix = index.data<uint8_t>();
  const float* lv = levels.data<float>();
  float* py = y.data<float>();
  bool bad = false;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = lv + r * L;
      const int64_t base = (o * rows + r) * inner;
      for (int64_t k = 0; k < inner; ++k) {
        const uint8_t i = ix[base + k];
        bad |= i >= L;
        py[base + k] = row[i < L ? i : 0];
      }
    }
  if (bad) fail(n.label() + ": an index is outside the " + std::to_string(L) + " levels");
  return y;
}

Tensor codebook_quantize(const Node& n, const Tensor& x, const Tensor& thresholds) {
  if (x.dtype != DType::F32) fail(n.label() + ": input must be float32");
  if (thresholds.dtype != DType::F32 || thresholds.rank() > 1 || thresholds.numel() > 255)
    fail(n.label() + ": thresholds must be float32 [T] with T <= 255");
  const float* t = thresholds.data<float>();
  const int64_t T = thresholds.numel();
  if (!std::is_sorted(t, t + T)) fail(n.label() + ": thresholds must be ascending");
  Tensor y(DType::U8, x.shape);
  const float* px = x.data<float>();
  uint8_t* py = y.data<uint8_t>();
  const int64_t N = x.numel(), grain = 16384;
  parallel_for((N + grain - 1) / grain, [&](int64_t c) {
    const int64_t e = std::min(N, (c + 1) * grain);
    if (T <= 16) {  // a short count vectorizes; NaN compares false everywhere: level 0
      for (int64_t i = c * grain; i < e; ++i) {
        int cnt = 0;
        for (int64_t k = 0; k < T; ++k) cnt += t[k] < px[i];
        py[i] = static_cast<uint8_t>(cnt);
      }
    } else {
      for (int64_t i = c * grain; i < e; ++i)
        py[i] = static_cast<uint8_t>(std::lower_bound(t, t + T, px[i], [](float a, float v) { return a < v; }) - t);
    }
  });
  return y;
}

}  // namespace qfrt
