#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "qforge/ir/passes.h"
#include "qforge/onnx/onnx_io.h"
#include "opset_normalize.h"
#include "tensor_proto.h"

namespace qforge::onnx_io {

namespace {
constexpr int64_t kMinOpset = 9, kMaxOpset = 17;

ir::ValueInfo value_info(const onnx::ValueInfoProto& v, const std::string& file) {
  ir::ValueInfo out;
  out.name = v.name();
  if (!v.type().has_tensor_type())
    throw OnnxError(file + ": value '" + v.name() + "' is not a tensor (sequence, map and optional types are not supported)");
  {
    const auto& tt = v.type().tensor_type();
    out.dtype = ir_dtype(tt.elem_type(), file + ": value '" + v.name() + "'");
    for (const auto& d : tt.shape().dim()) out.shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
  }
  return out;
}

ir::Attribute attribute(const onnx::AttributeProto& a, const std::string& where) {
  using AP = onnx::AttributeProto;
  switch (a.type()) {
    case AP::INT: return a.i();
    case AP::FLOAT: return static_cast<double>(a.f());
    case AP::STRING: return a.s();
    case AP::INTS: return std::vector<int64_t>(a.ints().begin(), a.ints().end());
    case AP::FLOATS: return std::vector<double>(a.floats().begin(), a.floats().end());
    case AP::STRINGS: return std::vector<std::string>(a.strings().begin(), a.strings().end());
    case AP::TENSOR: return from_proto(a.t(), where + " attribute '" + a.name() + "'");
    default: throw OnnxError(where + ": attribute '" + a.name() + "' has an unsupported type (" + std::to_string(a.type()) + ")");
  }
}

// Constant(value=...) -> the tensor it produces.
ir::Tensor constant_value(const ir::Node& n, const std::string& where) {
  const ir::Attributes& a = n.attrs;
  if (a.has("value")) return a.t("value");
  if (a.has("value_float")) return ir::Tensor::floats({}, {static_cast<float>(a.f("value_float"))});
  if (a.has("value_floats")) {
    std::vector<double> v = a.floats("value_floats", {});
    return ir::Tensor::floats({static_cast<int64_t>(v.size())}, std::vector<float>(v.begin(), v.end()));
  }
  if (a.has("value_int")) return ir::Tensor::int64s({}, {a.i("value_int")});
  if (a.has("value_ints")) {
    std::vector<int64_t> v = a.ints("value_ints");
    return ir::Tensor::int64s({static_cast<int64_t>(v.size())}, v);
  }
  throw OnnxError(where + ": Constant without a supported value attribute");
}

// Float initializers are trainable parameters, except the ones that are state or constants by role.
void mark_buffers(ir::Graph& g) {
  for (const ir::Node& n : g.nodes) {
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const std::string& v = n.inputs[i];
      if (!g.is_initializer(v)) continue;
      bool state = (n.op == "BatchNormalization" && i >= 3) || n.op == "Clip" || n.op == "Reshape" ||
                   ((n.op == "Dropout" || n.op == "Pad" || n.op == "Resize" || n.op == "Pow") && i >= 1);
      if (state) g.buffers.insert(v);
    }
  }
  for (const auto& [name, t] : g.initializers)
    if (t.dtype != ir::DType::Float32) g.buffers.insert(name);
}
}  // namespace

ir::Graph import_onnx_bytes(const std::string& bytes, const std::string& file) {
  onnx::ModelProto model;
  if (bytes.empty()) throw OnnxError(file + ": empty file");
  if (!model.ParseFromString(bytes)) throw OnnxError(file + ": not a valid ONNX model (protobuf parse failed: corrupt or truncated)");
  if (!model.has_graph()) throw OnnxError(file + ": the model has no graph (corrupt or truncated)");
  int64_t opset = -1;
  for (const auto& o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset = o.version();
  if (opset < 0) throw OnnxError(file + ": no default-domain opset_import");
  if (opset < kMinOpset || opset > kMaxOpset)
    throw OnnxError(file + ": opset " + std::to_string(opset) + " is outside the supported range " + std::to_string(kMinOpset) +
                    ".." + std::to_string(kMaxOpset));
  const onnx::GraphProto& gp = model.graph();
  ir::Graph g;
  g.name = gp.name().empty() ? std::filesystem::path(file).stem().string() : gp.name();
  for (const auto& t : gp.initializer()) {
    if (t.name().empty()) throw OnnxError(file + ": an initializer has no name");
    g.initializers[t.name()] = from_proto(t, file + ": initializer '" + t.name() + "'");
  }
  for (const auto& v : gp.input())
    if (!g.is_initializer(v.name())) g.inputs.push_back(value_info(v, file));
  for (const auto& v : gp.output()) g.outputs.push_back(value_info(v, file));
  std::set<std::string> names;
  int k = 0;
  for (const auto& np : gp.node()) {
    ir::Node n;
    n.op = np.op_type();
    n.name = np.name().empty() ? n.op + "_" + std::to_string(k) : np.name();
    ++k;
    while (!names.insert(n.name).second) n.name += "_";
    const std::string where = file + ": node '" + n.name + "' (" + n.op + ")";
    if (!np.domain().empty() && np.domain() != "ai.onnx" && !(np.domain() == kQforgeDomain && is_qforge_domain_op(n.op)))
      throw OnnxError(where + ": operator domain '" + np.domain() + "' is not supported");
    n.inputs.assign(np.input().begin(), np.input().end());
    n.outputs.assign(np.output().begin(), np.output().end());
    for (const auto& a : np.attribute()) n.attrs.set(a.name(), attribute(a, where));
    if (n.op == "Constant") {
      if (n.outputs.size() != 1) throw OnnxError(where + ": Constant must have one output");
      g.initializers[n.outputs[0]] = constant_value(n, where);
      g.buffers.insert(n.outputs[0]);
      continue;
    }
    normalize_node(n, opset, g, where);  // older opsets: to the opset-13 conventions the executor implements
    g.nodes.push_back(std::move(n));
  }
  try {
    g.topological_sort();
    g.validate();
  } catch (const std::runtime_error& e) {
    throw OnnxError(file + ": " + e.what());
  }
  mark_buffers(g);
  try {
    ir::fold_constants(g);
    ir::fold_shapes(g);
  } catch (const std::runtime_error& e) {
    throw OnnxError(file + ": " + e.what());
  }
  return g;
}

ir::Graph import_onnx(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw OnnxError(path + ": cannot open file");
  std::stringstream ss;
  ss << f.rdbuf();
  return import_onnx_bytes(ss.str(), path);
}

ir::Tensor read_tensor_proto(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw OnnxError(path + ": cannot open file");
  std::stringstream ss;
  ss << f.rdbuf();
  onnx::TensorProto t;
  if (!t.ParseFromString(ss.str())) throw OnnxError(path + ": not a TensorProto");
  return from_proto(t, path);
}

}  // namespace qforge::onnx_io
