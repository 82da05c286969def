#include "core/tensor.h"

#include "core/error.h"

namespace qfrt {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::U8: return 1;
    case DType::S8: return 1;
    case DType::I32: return 4;
    case DType::I64: return 8;
  }
  return 0;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "float32";
    case DType::U8: return "uint8";
    case DType::S8: return "int8";
    case DType::I32: return "int32";
    case DType::I64: return "int64";
  }
  return "?";
}

int64_t numel_of(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < 0) fail("negative dimension in shape " + shape_str(s));
    if (d > 0 && n > kMaxTensorBytes / d) fail("shape " + shape_str(s) + " is too large");
    n *= d;
  }
  return n;
}

Tensor::Tensor(DType t, Shape s) : dtype(t), shape(std::move(s)) {
  const int64_t n = numel_of(shape);
  if (n > kMaxTensorBytes / static_cast<int64_t>(dtype_size(t)))
    fail("a tensor of shape " + shape_str(shape) + " would exceed " + std::to_string(kMaxTensorBytes >> 30) + " GiB");
  bytes.resize(static_cast<size_t>(n) * dtype_size(t));
}

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

double Tensor::as_double(int64_t i) const {
  switch (dtype) {
    case DType::F32: return data<float>()[i];
    case DType::U8: return data<uint8_t>()[i];
    case DType::S8: return data<int8_t>()[i];
    case DType::I32: return data<int32_t>()[i];
    case DType::I64: return static_cast<double>(data<int64_t>()[i]);
  }
  return 0;
}

int64_t Tensor::as_int(int64_t i) const {
  switch (dtype) {
    case DType::F32: {
      const float v = data<float>()[i];  // a corrupt file's float: converting it out of range is undefined
      if (!(v >= -9.2e18f && v <= 9.2e18f)) fail("float value " + std::to_string(v) + " used as an integer is out of range");
      return static_cast<int64_t>(v);
    }
    case DType::U8: return data<uint8_t>()[i];
    case DType::S8: return data<int8_t>()[i];
    case DType::I32: return data<int32_t>()[i];
    case DType::I64: return data<int64_t>()[i];
  }
  return 0;
}

}  // namespace qfrt
