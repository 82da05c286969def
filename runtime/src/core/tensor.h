// A dense tensor: dtype, shape and a byte buffer (row-major, ONNX layout: NCHW for images).
// Quantized activations are plain uint8/int8 tensors as in ONNX; their scale and zero point travel
// as separate values, exactly as QuantizeLinear / DequantizeLinear see them.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/buffer.h"

namespace qfrt {

enum class DType { F32, U8, S8, I32, I64 };

size_t dtype_size(DType t);
const char* dtype_name(DType t);

using Shape = std::vector<int64_t>;
constexpr int64_t kMaxTensorBytes = int64_t{1} << 32;
int64_t numel_of(const Shape& s);
std::string shape_str(const Shape& s);

struct Tensor {
  DType dtype = DType::F32;
  Shape shape;
  std::vector<uint8_t, RecyclingAllocator<uint8_t>> bytes;  // not zero-filled on creation

  Tensor() = default;
  // Throws Error for a negative dimension or more than kMaxTensorBytes (a corrupt file's shape).
  Tensor(DType t, Shape s);

  int64_t numel() const { return numel_of(shape); }
  int64_t dim(int i) const { return shape.at(static_cast<size_t>(i)); }
  int rank() const { return static_cast<int>(shape.size()); }
  template <class T> T* data() { return reinterpret_cast<T*>(bytes.data()); }
  template <class T> const T* data() const { return reinterpret_cast<const T*>(bytes.data()); }
  // Element i as double / int64, whatever the dtype (for scalars, zero points, scales).
  double as_double(int64_t i) const;
  int64_t as_int(int64_t i) const;
};

}  // namespace qfrt
