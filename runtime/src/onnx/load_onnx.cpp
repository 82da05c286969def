// ONNX protobuf -> Graph, on Debian's libonnx classes. Everything the file could get wrong is
// checked here, so later stages can trust shapes of initializers and the wiring of values.
#include <onnx/onnx_pb.h>

#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "graph/graph.h"

namespace qfrt {

namespace {
DType dtype_of(int32_t t, const std::string& what) {
  switch (t) {
    case onnx::TensorProto::FLOAT: return DType::F32;
    case onnx::TensorProto::UINT8: return DType::U8;
    case onnx::TensorProto::INT8: return DType::S8;
    case onnx::TensorProto::INT32: return DType::I32;
    case onnx::TensorProto::INT64: return DType::I64;
    default: fail(what + ": unsupported tensor element type " + std::to_string(t) + " (float, uint8, int8, int32, int64 only)");
  }
}

Tensor to_tensor(const onnx::TensorProto& p, const std::string& what) {
  if (p.data_location() == onnx::TensorProto::EXTERNAL) fail(what + ": external tensor data is not supported");
  Shape shape(p.dims().begin(), p.dims().end());
  const DType dt = dtype_of(p.data_type(), what);
  int64_t numel = 0;
  try {
    numel = numel_of(shape);
  } catch (const Error& e) {
    fail(what + ": " + e.what());
  }
  const size_t n = static_cast<size_t>(numel), nbytes = n * dtype_size(dt);
  // Sizes are checked before anything is allocated, so a corrupt shape cannot exhaust memory.
  size_t have = 0;
  if (p.has_raw_data()) {
    if (p.raw_data().size() != nbytes)
      fail(what + ": raw data has " + std::to_string(p.raw_data().size()) + " bytes, shape " + shape_str(shape) + " of " +
           dtype_name(dt) + " needs " + std::to_string(nbytes));
  } else {
    have = dt == DType::F32 ? static_cast<size_t>(p.float_data_size())
           : dt == DType::I64 ? static_cast<size_t>(p.int64_data_size())
                              : static_cast<size_t>(p.int32_data_size());
    if (have != n) fail(what + ": holds " + std::to_string(have) + " values, shape " + shape_str(shape) + " needs " + std::to_string(n));
  }
  Tensor t;
  try {
    t = Tensor(dt, shape);
  } catch (const Error& e) {
    fail(what + ": " + e.what());
  }
  if (p.has_raw_data()) {
    if (!t.bytes.empty()) std::memcpy(t.bytes.data(), p.raw_data().data(), t.bytes.size());  // an empty tensor has no buffer
    return t;
  }
  switch (t.dtype) {
    case DType::F32:
      for (size_t i = 0; i < n; ++i) t.data<float>()[i] = p.float_data(static_cast<int>(i));
      break;
    case DType::U8:
    case DType::S8:
    case DType::I32:
      for (size_t i = 0; i < n; ++i) {
        const int32_t v = p.int32_data(static_cast<int>(i));
        if (t.dtype == DType::U8) t.data<uint8_t>()[i] = static_cast<uint8_t>(v);
        else if (t.dtype == DType::S8) t.data<int8_t>()[i] = static_cast<int8_t>(v);
        else t.data<int32_t>()[i] = v;
      }
      break;
    case DType::I64:
      for (size_t i = 0; i < n; ++i) t.data<int64_t>()[i] = p.int64_data(static_cast<int>(i));
      break;
  }
  return t;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path + ": cannot open");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Attr to_attr(const onnx::AttributeProto& a, const std::string& what) {
  Attr r;
  switch (a.type()) {
    case onnx::AttributeProto::INT: r.kind = Attr::Int; r.i = a.i(); break;
    case onnx::AttributeProto::FLOAT: r.kind = Attr::Float; r.f = a.f(); break;
    case onnx::AttributeProto::INTS: r.kind = Attr::Ints; r.ints.assign(a.ints().begin(), a.ints().end()); break;
    case onnx::AttributeProto::FLOATS: r.kind = Attr::Floats; r.floats.assign(a.floats().begin(), a.floats().end()); break;
    case onnx::AttributeProto::STRING: r.kind = Attr::String; r.s = a.s(); break;
    default: fail(what + ": attribute '" + a.name() + "' has an unsupported type");
  }
  return r;
}
}  // namespace

Graph load_onnx(const std::string& path) {
  const std::string bytes = read_file(path);
  onnx::ModelProto m;
  if (bytes.empty() || !m.ParseFromString(bytes))
    fail(path + ": not a valid ONNX model (truncated or corrupt protobuf)");
  if (!m.has_graph() || m.graph().node_size() == 0) fail(path + ": the model has no graph nodes (truncated or not an ONNX model)");
  for (const auto& o : m.opset_import())
    if ((o.domain().empty() || o.domain() == "ai.onnx") && (o.version() < 7 || o.version() > 19))
      fail(path + ": opset " + std::to_string(o.version()) + " is outside the supported range 7-19");
  Graph g;
  g.source = path;
  const onnx::GraphProto& gp = m.graph();
  for (const auto& t : gp.initializer()) {
    if (t.name().empty()) fail(path + ": an initializer has no name");
    g.initializers[t.name()] = to_tensor(t, path + ": initializer '" + t.name() + "'");
  }
  std::set<std::string> known;
  for (const auto& kv : g.initializers) known.insert(kv.first);
  for (const auto& i : gp.input())
    if (!g.initializers.count(i.name())) {
      g.inputs.push_back(i.name());
      known.insert(i.name());
    }
  for (int k = 0; k < gp.node_size(); ++k) {
    const auto& np = gp.node(k);
    Node n;
    n.name = np.name().empty() ? np.op_type() + "_" + std::to_string(k) : np.name();
    n.op = np.op_type();
    n.domain = np.domain() == "ai.onnx" ? "" : np.domain();
    n.inputs.assign(np.input().begin(), np.input().end());
    n.outputs.assign(np.output().begin(), np.output().end());
    const std::string what = path + ": " + n.label();
    // qforge's own domain (qforge's QDQ export with codebooks, include/qforge/onnx/onnx_io.h): its ops
    // run as the runtime's qf.* ops of the same name.
    if (n.domain == "ai.qforge" && (n.op == "CodebookQuantize" || n.op == "CodebookDequantize")) {
      n.op = "qf." + n.op;
      n.domain.clear();
    }
    if (!n.domain.empty()) fail(what + ": operator domain '" + n.domain + "' is not supported");
    for (const auto& a : np.attribute()) n.attrs[a.name()] = to_attr(a, what);
    for (const auto& in : n.inputs)
      if (!in.empty() && !known.count(in))
        fail(what + ": input '" + in + "' is not a graph input, an initializer or an earlier node's output (missing initializer, "
                    "or the file is truncated)");
    for (const auto& out : n.outputs) known.insert(out);
    g.nodes.push_back(std::move(n));
  }
  for (const auto& o : gp.output()) {
    if (!known.count(o.name())) fail(path + ": graph output '" + o.name() + "' is produced by no node");
    g.outputs.push_back(o.name());
  }
  if (g.outputs.empty()) fail(path + ": the graph has no outputs");
  return g;
}

Tensor load_tensor_proto(const std::string& path) {
  onnx::TensorProto p;
  const std::string bytes = read_file(path);
  if (!p.ParseFromString(bytes)) fail(path + ": not a valid TensorProto");
  return to_tensor(p, path);
}

}  // namespace qfrt
