// Conversion between the IR's dependency-free tensors and ATen tensors.
#pragma once
#include <ATen/ATen.h>

#include "qforge/ir/tensor.h"

namespace qforge::exec {

at::ScalarType to_scalar_type(ir::DType t);
ir::DType to_ir_dtype(at::ScalarType t);  // throws for dtypes the IR does not hold
at::Tensor to_aten(const ir::Tensor& t);  // copies
ir::Tensor to_ir(const at::Tensor& t);    // copies (moves to CPU, makes contiguous)
// The values of an integer operand (shape, pads, axes, indices) as int64s, from any device and dtype.
std::vector<int64_t> int64_values(const at::Tensor& t);

}  // namespace qforge::exec
