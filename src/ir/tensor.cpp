#include "qforge/ir/tensor.h"

#include <stdexcept>
#include <type_traits>

namespace qforge::ir {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
    case DType::Int32: return "int32";
    case DType::Int8: return "int8";
    case DType::UInt8: return "uint8";
    case DType::Bool: return "bool";
  }
  return "?";
}

DType dtype_from_name(const std::string& name) {
  for (DType t : {DType::Float32, DType::Float64, DType::Int64, DType::Int32, DType::Int8, DType::UInt8,
                  DType::Bool})
    if (name == dtype_name(t)) return t;
  throw std::invalid_argument("unknown dtype '" + name + "'");
}

size_t dtype_size(DType t) {
  switch (t) {
    case DType::Float64:
    case DType::Int64: return 8;
    case DType::Float32:
    case DType::Int32: return 4;
    default: return 1;
  }
}

DType dtype_from_onnx(int64_t code) {
  switch (code) {
    case 1: return DType::Float32;
    case 2: return DType::UInt8;
    case 3: return DType::Int8;
    case 6: return DType::Int32;
    case 7: return DType::Int64;
    case 9: return DType::Bool;
    case 11: return DType::Float64;
    default: throw std::invalid_argument("unsupported ONNX data type " + std::to_string(code));
  }
}

int32_t onnx_code(DType t) {
  switch (t) {
    case DType::Float32: return 1;
    case DType::UInt8: return 2;
    case DType::Int8: return 3;
    case DType::Int32: return 6;
    case DType::Int64: return 7;
    case DType::Bool: return 9;
    case DType::Float64: return 11;
  }
  return 0;
}

Tensor::Tensor(DType t, std::vector<int64_t> s) : dtype(t), shape(std::move(s)) {
  bytes.assign(static_cast<size_t>(numel()) * dtype_size(t), 0);
}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Tensor Tensor::floats(std::vector<int64_t> shape, const std::vector<float>& values) {
  Tensor t(DType::Float32, std::move(shape));
  if (static_cast<int64_t>(values.size()) != t.numel())
    throw std::invalid_argument("Tensor::floats: " + std::to_string(values.size()) + " values for shape " +
                                shape_str(t.shape));
  std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

Tensor Tensor::int64s(std::vector<int64_t> shape, const std::vector<int64_t>& values) {
  Tensor t(DType::Int64, std::move(shape));
  if (static_cast<int64_t>(values.size()) != t.numel())
    throw std::invalid_argument("Tensor::int64s: " + std::to_string(values.size()) + " values for shape " +
                                shape_str(t.shape));
  std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

namespace {
template <typename Out>
std::vector<Out> convert(const Tensor& t) {
  std::vector<Out> out(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < out.size(); ++i) {
    switch (t.dtype) {
      case DType::Float32: out[i] = static_cast<Out>(t.data<float>()[i]); break;
      case DType::Float64: out[i] = static_cast<Out>(t.data<double>()[i]); break;
      case DType::Int64: out[i] = static_cast<Out>(t.data<int64_t>()[i]); break;
      case DType::Int32: out[i] = static_cast<Out>(t.data<int32_t>()[i]); break;
      case DType::Int8: out[i] = static_cast<Out>(t.data<int8_t>()[i]); break;
      case DType::UInt8:
      case DType::Bool: out[i] = static_cast<Out>(t.data<uint8_t>()[i]); break;
    }
  }
  return out;
}
}  // namespace

std::vector<float> Tensor::to_floats() const { return convert<float>(*this); }
std::vector<int64_t> Tensor::to_int64s() const { return convert<int64_t>(*this); }

Tensor Tensor::cast(DType to) const {
  Tensor out(to, shape);
  auto fill = [&](auto* dst) {
    using T = std::remove_pointer_t<decltype(dst)>;
    const std::vector<double> v = convert<double>(*this);
    for (size_t i = 0; i < v.size(); ++i) dst[i] = static_cast<T>(v[i]);
  };
  switch (to) {
    case DType::Float32: fill(out.data<float>()); break;
    case DType::Float64: fill(out.data<double>()); break;
    case DType::Int64: {  // through int64 directly: doubles lose integers above 2^53
      const std::vector<int64_t> v = to_int64s();
      std::memcpy(out.bytes.data(), v.data(), out.bytes.size());
      break;
    }
    case DType::Int32: fill(out.data<int32_t>()); break;
    case DType::Int8: fill(out.data<int8_t>()); break;
    case DType::UInt8: fill(out.data<uint8_t>()); break;
    case DType::Bool: {
      const std::vector<double> v = convert<double>(*this);
      for (size_t i = 0; i < v.size(); ++i) out.data<uint8_t>()[i] = v[i] != 0.0;
      break;
    }
  }
  return out;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] < 0 ? std::string("N") : std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace qforge::ir
