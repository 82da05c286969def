// TensorProto <-> ir::Tensor.
#pragma once
#include <onnx/onnx_pb.h>

#include "qforge/ir/tensor.h"

namespace qforge::onnx_io {

// Throws OnnxError with `what` (the initializer or attribute name) for unsupported data types
// or data whose size does not match the shape.
ir::Tensor from_proto(const onnx::TensorProto& t, const std::string& what);
void to_proto(const ir::Tensor& t, const std::string& name, onnx::TensorProto* out);
int32_t onnx_elem_type(ir::DType t);
ir::DType ir_dtype(int32_t elem_type, const std::string& what);

}  // namespace qforge::onnx_io
