// Writes small ONNX models for tests (onnx protobuf classes), so tests need no Python.
#pragma once
#include <onnx/onnx_pb.h>

#include <fstream>
#include <string>
#include <vector>

namespace qfrt_test {

class OnnxBuilder {
 public:
  OnnxBuilder() {
    m_.set_ir_version(8);
    m_.set_producer_name("qforge_rt tests");
    m_.add_opset_import()->set_version(13);
  }
  onnx::GraphProto& g() { return *m_.mutable_graph(); }
  // A custom operator domain's opset (qforge's own ops: import_domain("ai.qforge", 1)).
  void import_domain(const std::string& domain, int64_t version) {
    auto* o = m_.add_opset_import();
    o->set_domain(domain);
    o->set_version(version);
  }

  void input(const std::string& name, std::vector<int64_t> shape) { value(g().add_input(), name, shape); }
  void output(const std::string& name) { value(g().add_output(), name, {}); }

  void floats(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& v) {
    onnx::TensorProto* t = init(name, shape, onnx::TensorProto::FLOAT);
    for (float x : v) t->add_float_data(x);
  }
  void int8s(const std::string& name, std::vector<int64_t> shape, const std::vector<int>& v, bool is_unsigned = false) {
    onnx::TensorProto* t = init(name, shape, is_unsigned ? onnx::TensorProto::UINT8 : onnx::TensorProto::INT8);
    for (int x : v) t->add_int32_data(x);
  }

  onnx::NodeProto* node(const std::string& op, std::vector<std::string> in, std::vector<std::string> out, const std::string& name = "") {
    onnx::NodeProto* n = g().add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? op + "_" + std::to_string(g().node_size()) : name);
    for (auto& s : in) n->add_input(s);
    for (auto& s : out) n->add_output(s);
    return n;
  }
  static void attr(onnx::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr(onnx::NodeProto* n, const std::string& name, std::vector<int64_t> v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }

  std::string bytes() const { return m_.SerializeAsString(); }
  void save(const std::string& path) const {
    std::ofstream f(path, std::ios::binary);
    f << bytes();
  }

 private:
  static void value(onnx::ValueInfoProto* v, const std::string& name, const std::vector<int64_t>& shape) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : shape) tt->mutable_shape()->add_dim()->set_dim_value(d);
  }
  onnx::TensorProto* init(const std::string& name, const std::vector<int64_t>& shape, int type) {
    onnx::TensorProto* t = g().add_initializer();
    t->set_name(name);
    t->set_data_type(type);
    for (int64_t d : shape) t->add_dims(d);
    return t;
  }
  onnx::ModelProto m_;
};

}  // namespace qfrt_test
