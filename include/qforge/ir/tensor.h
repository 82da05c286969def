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
};

std::string shape_str(const std::vector<int64_t>& shape);

}  // namespace qforge::ir
