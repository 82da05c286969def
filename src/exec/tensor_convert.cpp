#include "qforge/exec/tensor_convert.h"

#include <stdexcept>

namespace qforge::exec {

at::ScalarType to_scalar_type(ir::DType t) {
  switch (t) {
    case ir::DType::Float32: return at::kFloat;
    case ir::DType::Float64: return at::kDouble;
    case ir::DType::Int64: return at::kLong;
    case ir::DType::Int32: return at::kInt;
    case ir::DType::Int8: return at::kChar;
    case ir::DType::UInt8: return at::kByte;
    case ir::DType::Bool: return at::kBool;
  }
  throw std::invalid_argument("unknown ir dtype");
}

ir::DType to_ir_dtype(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return ir::DType::Float32;
    case at::kDouble: return ir::DType::Float64;
    case at::kLong: return ir::DType::Int64;
    case at::kInt: return ir::DType::Int32;
    case at::kChar: return ir::DType::Int8;
    case at::kByte: return ir::DType::UInt8;
    case at::kBool: return ir::DType::Bool;
    default: throw std::invalid_argument(std::string("tensor dtype ") + c10::toString(t) + " cannot be stored in a graph");
  }
}

at::Tensor to_aten(const ir::Tensor& t) {
  at::Tensor out = at::empty(t.shape, at::TensorOptions().dtype(to_scalar_type(t.dtype)));
  if (!t.bytes.empty()) std::memcpy(out.data_ptr(), t.bytes.data(), t.bytes.size());
  return out;
}

std::vector<int64_t> int64_values(const at::Tensor& t) {
  at::Tensor c = t.to(at::kCPU).to(at::kLong).contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

ir::Tensor to_ir(const at::Tensor& t) {
  at::Tensor c = t.detach().to(at::kCPU).contiguous();
  ir::Tensor out(to_ir_dtype(c.scalar_type()), c.sizes().vec());
  if (!out.bytes.empty()) std::memcpy(out.bytes.data(), c.data_ptr(), out.bytes.size());
  return out;
}

}  // namespace qforge::exec
