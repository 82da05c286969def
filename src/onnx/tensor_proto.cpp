#include "tensor_proto.h"

#include "qforge/onnx/onnx_io.h"

namespace qforge::onnx_io {

using TP = onnx::TensorProto;

int32_t onnx_elem_type(ir::DType t) { return ir::onnx_code(t); }

ir::DType ir_dtype(int32_t e, const std::string& what) {
  try {
    return ir::dtype_from_onnx(e);
  } catch (const std::invalid_argument& err) {
    throw OnnxError(what + ": " + err.what());
  }
}

ir::Tensor from_proto(const TP& t, const std::string& what) {
  if (t.data_location() == TP::EXTERNAL) throw OnnxError(what + ": external tensor data is not supported");
  std::vector<int64_t> shape(t.dims().begin(), t.dims().end());
  const ir::DType dtype = ir_dtype(t.data_type(), what);
  // Count elements with an overflow check and compare with the data present before allocating, so a
  // corrupt shape cannot ask for terabytes.
  size_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw OnnxError(what + ": negative dimension in tensor shape");
    if (d > 0 && n > (size_t{1} << 40) / static_cast<size_t>(d))
      throw OnnxError(what + ": tensor shape " + ir::shape_str(shape) + " is too large");
    n *= static_cast<size_t>(d);
  }
  auto size_error = [&](size_t got) {
    return OnnxError(what + ": holds " + std::to_string(got) + " values but its shape " + ir::shape_str(shape) + " needs " +
                     std::to_string(n));
  };
  auto field_size = [&]() -> size_t {
    switch (dtype) {
      case ir::DType::Float32: return static_cast<size_t>(t.float_data_size());
      case ir::DType::Float64: return static_cast<size_t>(t.double_data_size());
      case ir::DType::Int64: return static_cast<size_t>(t.int64_data_size());
      default: return static_cast<size_t>(t.int32_data_size());
    }
  };
  if (t.has_raw_data() ? t.raw_data().size() != n * ir::dtype_size(dtype) : field_size() != n)
    throw size_error(t.has_raw_data() ? t.raw_data().size() / ir::dtype_size(dtype) : field_size());
  ir::Tensor out(dtype, shape);
  if (t.has_raw_data()) {
    if (!out.bytes.empty()) std::memcpy(out.bytes.data(), t.raw_data().data(), out.bytes.size());
    return out;
  }
  auto copy = [&](const auto& field, auto* dst) {
    for (size_t i = 0; i < n; ++i) dst[i] = static_cast<std::remove_pointer_t<decltype(dst)>>(field.Get(static_cast<int>(i)));
  };
  switch (out.dtype) {
    case ir::DType::Float32: copy(t.float_data(), out.data<float>()); break;
    case ir::DType::Float64: copy(t.double_data(), out.data<double>()); break;
    case ir::DType::Int64: copy(t.int64_data(), out.data<int64_t>()); break;
    case ir::DType::Int32: copy(t.int32_data(), out.data<int32_t>()); break;
    case ir::DType::Int8: copy(t.int32_data(), out.data<int8_t>()); break;
    case ir::DType::UInt8:
    case ir::DType::Bool: copy(t.int32_data(), out.data<uint8_t>()); break;
  }
  return out;
}

void to_proto(const ir::Tensor& t, const std::string& name, TP* out) {
  out->set_name(name);
  out->set_data_type(onnx_elem_type(t.dtype));
  for (int64_t d : t.shape) out->add_dims(d);
  out->set_raw_data(std::string(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size()));
}

}  // namespace qforge::onnx_io
