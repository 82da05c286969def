// A small, dependency-free tensor handle for graph initializers and attributes.
// Data is stored as raw bytes in native (little-endian) order; exec converts to at::Tensor.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace qforge::ir {

enum class DType { Float32, Float64, Int64, Int32, Int8, UInt8, Bool };

const char* dtype_name(DType t);
DType dtype_from_name(const std::string& name);  // throws std::invalid_argument
size_t dtype_size(DType t);
// ONNX TensorProto.DataType codes (FLOAT = 1, UINT8 = 2, INT8 = 3, INT32 = 6, INT64 = 7, BOOL = 9,
// DOUBLE = 11), as Cast's `to` attribute and the file format use them. dtype_from_onnx throws
// std::invalid_argument for a code qforge does not hold.
DType dtype_from_onnx(int64_t code);
int32_t onnx_code(DType t);

struct Tensor {
  DType dtype = DType::Float32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  Tensor() = default;
  Tensor(DType t, std::vector<int64_t> s);  // zero-filled

  int64_t numel() const;
  template <typename T> T* data() { return reinterpret_cast<T*>(bytes.data()); }
  template <typename T> const T* data() const { return reinterpret_cast<const T*>(bytes.data()); }

  static Tensor floats(std::vector<int64_t> shape, const std::vector<float>& values);
  static Tensor int64s(std::vector<int64_t> shape, const std::vector<int64_t>& values);
  std::vector<float> to_floats() const;    // any numeric dtype, converted
  std::vector<int64_t> to_int64s() const;  // any numeric dtype, converted
  Tensor cast(DType to) const;              // C++ conversion per element (float -> int truncates)
};

std::string shape_str(const std::vector<int64_t>& shape);

}  // namespace qforge::ir
