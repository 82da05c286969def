#include "qforge/ir/tensor.h"

#include <stdexcept>

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

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] < 0 ? std::string("N") : std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace qforge::ir
