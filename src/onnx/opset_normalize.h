// Internal to the importer: rewrites a node of an older opset into the opset-13 form the executor,
// shape inference and the exporter implement (attributes that later opsets made inputs, renamed ops).
#pragma once
#include <cstdint>

#include "qforge/ir/graph.h"

namespace qforge::onnx_io {

// `opset` is the model's default-domain opset. New constant inputs become buffers of `g` named
// after the node. Throws OnnxError naming the node for a form that cannot be expressed.
void normalize_node(ir::Node& n, int64_t opset, ir::Graph& g, const std::string& where);

}  // namespace qforge::onnx_io
