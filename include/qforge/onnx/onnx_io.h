// ONNX <-> graph. The IR already uses ONNX op names and attributes (opset 13), so import and
// export are mostly a direct mapping; import also upgrades older opsets' conventions and folds
// constant shape arithmetic.
#pragma once
#include <stdexcept>
#include <string>

#include "qforge/ir/graph.h"

namespace qforge::onnx_io {

struct OnnxError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads FILE.onnx. Throws OnnxError naming the file, and the node/op where one is at fault, for:
// unreadable or truncated files, opsets outside 9..17, unsupported data types, missing
// initializers or values, cycles. Unknown ops are left in the graph (the executor names them).
ir::Graph import_onnx(const std::string& path);
ir::Graph import_onnx_bytes(const std::string& bytes, const std::string& name);

// Writes opset 13. Throws OnnxError naming the node for ops that have no ONNX form (FakeQuant:
// use the QDQ export). The write is atomic (PATH.tmp, then rename).
void export_onnx(const ir::Graph& g, const std::string& path);
std::string export_onnx_bytes(const ir::Graph& g);

// qforge's own operator domain: CodebookQuantize / CodebookDequantize (quant/qdq.h), which the QDQ
// export writes for codebook quantizers when asked to (the packed runtime file); version 1.
inline constexpr const char* kQforgeDomain = "ai.qforge";
bool is_qforge_domain_op(const std::string& op);

// TensorProto bytes <-> tensor (for test data: input_0.pb, output_0.pb).
ir::Tensor read_tensor_proto(const std::string& path);

}  // namespace qforge::onnx_io
