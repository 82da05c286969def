#include "opset_normalize.h"

#include "qforge/onnx/onnx_io.h"

namespace qforge::onnx_io {

namespace {
// Moves an ints attribute into a new int64 initializer input at position k ("" fills any gap).
void attr_to_input(ir::Node& n, ir::Graph& g, const std::string& attr, size_t k) {
  if (!n.attrs.has(attr)) return;
  const std::vector<int64_t> v = n.attrs.ints(attr);
  n.attrs.erase(attr);
  std::string name = n.name + "/" + attr;
  while (g.initializers.count(name)) name += "_";
  g.initializers[name] = ir::Tensor::int64s({static_cast<int64_t>(v.size())}, v);
  g.buffers.insert(name);
  if (n.inputs.size() <= k) n.inputs.resize(k + 1);
  n.inputs[k] = name;
}
}  // namespace

void normalize_node(ir::Node& n, int64_t opset, ir::Graph& g, const std::string& where) {
  if (n.op == "BatchNormalization") n.attrs.erase("spatial"), n.attrs.erase("is_test"), n.attrs.erase("consumed_inputs");
  if (opset < 13 && (n.op == "Squeeze" || n.op == "Unsqueeze")) attr_to_input(n, g, "axes", 1);
  if (opset < 13 && n.op == "Split") attr_to_input(n, g, "split", 1);
  if (opset < 10 && n.op == "Slice") {
    if (!n.attrs.has("starts") || !n.attrs.has("ends")) throw OnnxError(where + ": Slice needs starts and ends");
    attr_to_input(n, g, "starts", 1);
    attr_to_input(n, g, "ends", 2);
    attr_to_input(n, g, "axes", 3);
  }
  // Upsample (opset 9) and Resize-10 take (X, scales) and map output to input coordinates as
  // x / scale with nearest rounding down: Resize-13's asymmetric transform with floor.
  if (n.op == "Upsample" || (n.op == "Resize" && opset < 11)) {
    if (n.inputs.size() != 2) throw OnnxError(where + ": expects inputs (X, scales)");
    n.op = "Resize";
    n.inputs = {n.inputs[0], "", n.inputs[1]};
    n.attrs.set("coordinate_transformation_mode", std::string("asymmetric"));
    n.attrs.set("nearest_mode", std::string("floor"));
  }
}

}  // namespace qforge::onnx_io
