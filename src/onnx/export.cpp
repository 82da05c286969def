#include <filesystem>
#include <fstream>

#include "qforge/ir/shape_inference.h"
#include "qforge/onnx/onnx_io.h"
#include "tensor_proto.h"

namespace qforge::onnx_io {

namespace {
constexpr int64_t kOpset = 13;

void set_value_info(const ir::ValueInfo& v, onnx::ValueInfoProto* out) {
  out->set_name(v.name);
  auto* tt = out->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx_elem_type(v.dtype));
  if (v.shape.empty()) return;
  auto* shape = tt->mutable_shape();
  for (int64_t d : v.shape) {
    auto* dim = shape->add_dim();
    if (d < 0) dim->set_dim_param("N");
    else dim->set_dim_value(d);
  }
}

void set_attribute(const std::string& name, const ir::Attribute& a, onnx::AttributeProto* out) {
  using AP = onnx::AttributeProto;
  out->set_name(name);
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) out->set_type(AP::INT), out->set_i(v);
        else if constexpr (std::is_same_v<T, double>) out->set_type(AP::FLOAT), out->set_f(static_cast<float>(v));
        else if constexpr (std::is_same_v<T, std::string>) out->set_type(AP::STRING), out->set_s(v);
        else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          out->set_type(AP::INTS);
          for (int64_t x : v) out->add_ints(x);
        } else if constexpr (std::is_same_v<T, std::vector<double>>) {
          out->set_type(AP::FLOATS);
          for (double x : v) out->add_floats(static_cast<float>(x));
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          out->set_type(AP::STRINGS);
          for (const auto& x : v) out->add_strings(x);
        } else {
          out->set_type(AP::TENSOR);
          to_proto(v, name, out->mutable_t());
        }
      },
      a);
}

// Attributes that are qforge's own state, not ONNX's.
bool internal_attribute(const ir::Node& n, const std::string& name) {
  return (n.op == "BatchNormalization" && name == "frozen") || (n.op == "Dropout" && name == "ratio");
}
}  // namespace

bool is_qforge_domain_op(const std::string& op) { return op == "CodebookQuantize" || op == "CodebookDequantize"; }

std::string export_onnx_bytes(const ir::Graph& g) {
  for (const ir::Node& n : g.nodes)
    if (n.op == "FakeQuant")
      throw OnnxError("node '" + n.name + "' is a quantizer; float ONNX cannot hold it (export with --format qdq)");
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.set_producer_name("qforge");
  m.set_producer_version("0.1.0");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(kOpset);
  bool own_ops = false;
  for (const ir::Node& n : g.nodes) own_ops |= is_qforge_domain_op(n.op);
  if (own_ops) {
    auto* qf = m.add_opset_import();
    qf->set_domain(kQforgeDomain);
    qf->set_version(1);
  }
  onnx::GraphProto* gp = m.mutable_graph();
  gp->set_name(g.name);
  for (const ir::ValueInfo& v : g.inputs) set_value_info(v, gp->add_input());
  // Outputs whose shape the graph does not record get it from shape inference (the ONNX checker
  // requires one); a symbolic batch dimension of the input stays symbolic.
  std::map<std::string, ir::ValueInfo> inferred;
  for (const ir::ValueInfo& v : g.outputs)
    if (v.shape.empty() && inferred.empty()) {
      try {
        inferred = ir::infer_shapes(g, 1);
      } catch (const std::exception&) {
        break;  // leave the shape open; the node loop below reports graph errors it can name
      }
    }
  const bool symbolic_batch = !g.inputs.empty() && !g.inputs[0].shape.empty() && g.inputs[0].shape[0] < 0;
  for (ir::ValueInfo v : g.outputs) {
    auto it = inferred.find(v.name);
    if (v.shape.empty() && it != inferred.end()) {
      v.shape = it->second.shape;
      if (symbolic_batch && !v.shape.empty()) v.shape[0] = -1;
    }
    set_value_info(v, gp->add_output());
  }
  for (const auto& [name, t] : g.initializers) to_proto(t, name, gp->add_initializer());
  for (const ir::Node& n : g.nodes) {
    onnx::NodeProto* np = gp->add_node();
    np->set_name(n.name);
    np->set_op_type(n.op);
    if (is_qforge_domain_op(n.op)) np->set_domain(kQforgeDomain);
    for (const std::string& i : n.inputs) np->add_input(i);
    for (const std::string& o : n.outputs) np->add_output(o);
    for (const auto& [k, a] : n.attrs.all())
      if (!internal_attribute(n, k)) set_attribute(k, a, np->add_attribute());
  }
  std::string out;
  if (!m.SerializeToString(&out)) throw OnnxError("graph '" + g.name + "': ONNX serialization failed");
  return out;
}

void export_onnx(const ir::Graph& g, const std::string& path) {
  std::string bytes = export_onnx_bytes(g);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw OnnxError(path + ": cannot write");
    }
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace qforge::onnx_io
