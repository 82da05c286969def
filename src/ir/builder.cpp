#include "qforge/ir/builder.h"

#include <cmath>
#include <stdexcept>

namespace qforge::ir {

GraphBuilder::GraphBuilder(std::string graph_name, uint64_t seed) : rng_(seed) { g_.name = std::move(graph_name); }

void GraphBuilder::push_scope(const std::string& s) { scopes_.push_back(s); }
void GraphBuilder::pop_scope() {
  if (scopes_.empty()) throw std::logic_error("GraphBuilder::pop_scope without push_scope");
  scopes_.pop_back();
}

std::string GraphBuilder::scoped(const std::string& name) const {
  std::string s;
  for (const std::string& p : scopes_) s += p + ".";
  return s + name;
}

std::string GraphBuilder::unique(const std::string& base) {
  std::string name = base;
  for (int k = 1; used_.count(name); ++k) name = base + "_" + std::to_string(k);
  used_.insert(name);
  return name;
}

std::string GraphBuilder::input(const std::string& name, std::vector<int64_t> shape, DType t) {
  std::string n = unique(name);
  g_.inputs.push_back({n, t, std::move(shape)});
  return n;
}

void GraphBuilder::output(const std::string& value, const std::string& name) {
  if (name.empty() || name == value) {
    g_.outputs.push_back({value, DType::Float32, {}});
    return;
  }
  // Rename through an Identity so the graph output has the requested name. The value name is
  // claimed first (so it is exactly `name` when free); the Identity node may carry the same name
  // (node and value names are separate namespaces in ONNX).
  std::string out = unique(name);
  std::string node_name = scoped(name) == out ? out : unique(scoped(name));
  Node n{node_name, "Identity", {value}, {out}, {}};
  g_.nodes.push_back(n);
  g_.outputs.push_back({n.outputs[0], DType::Float32, {}});
}

std::vector<std::string> GraphBuilder::node(const std::string& op, const std::vector<std::string>& inputs,
                                            Attributes attrs, int num_outputs, const std::string& name) {
  Node n;
  n.name = unique(scoped(name.empty() ? op : name));
  n.op = op;
  n.inputs = inputs;
  n.attrs = std::move(attrs);
  for (int k = 0; k < num_outputs; ++k) n.outputs.push_back(unique(num_outputs == 1 ? n.name : n.name + ":" + std::to_string(k)));
  g_.nodes.push_back(n);
  return n.outputs;
}

std::string GraphBuilder::add_initializer(const std::string& name, Tensor t, bool buffer) {
  std::string n = unique(name);
  g_.initializers[n] = std::move(t);
  if (buffer) g_.buffers.insert(n);
  return n;
}

std::vector<float> GraphBuilder::kaiming_normal_fan_out(int64_t n, int64_t fan_out) {
  std::normal_distribution<float> d(0.f, std::sqrt(2.f / static_cast<float>(fan_out)));
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(rng_);
  return v;
}

std::vector<float> GraphBuilder::uniform(int64_t n, float bound) {
  std::uniform_real_distribution<float> d(-bound, bound);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(rng_);
  return v;
}

std::string GraphBuilder::conv(const std::string& x, int64_t in_ch, int64_t out_ch, int64_t kernel, int64_t stride,
                               int64_t pad, int64_t groups, bool bias, const std::string& name) {
  if (in_ch % groups || out_ch % groups)
    throw std::invalid_argument(scoped(name) + ": channels " + std::to_string(in_ch) + "->" + std::to_string(out_ch) +
                                " not divisible by groups " + std::to_string(groups));
  std::string base = scoped(name);
  std::vector<int64_t> wshape{out_ch, in_ch / groups, kernel, kernel};
  int64_t n = out_ch * (in_ch / groups) * kernel * kernel;
  std::vector<std::string> ins{x, add_initializer(base + ".weight",
                                                  Tensor::floats(wshape, kaiming_normal_fan_out(n, out_ch / groups * kernel * kernel)))};
  if (bias) ins.push_back(add_initializer(base + ".bias", Tensor(DType::Float32, {out_ch})));
  Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{kernel, kernel});
  a.set("strides", std::vector<int64_t>{stride, stride});
  a.set("pads", std::vector<int64_t>{pad, pad, pad, pad});
  a.set("dilations", std::vector<int64_t>{1, 1});
  a.set("group", groups);
  return node("Conv", ins, a, 1, name)[0];
}

std::string GraphBuilder::batchnorm(const std::string& x, int64_t ch, const std::string& name, double eps,
                                    double momentum) {
  std::string base = scoped(name);
  std::string scale = add_initializer(base + ".weight", Tensor::floats({ch}, std::vector<float>(ch, 1.f)));
  std::string b = add_initializer(base + ".bias", Tensor(DType::Float32, {ch}));
  std::string mean = add_initializer(base + ".running_mean", Tensor(DType::Float32, {ch}), true);
  std::string var = add_initializer(base + ".running_var", Tensor::floats({ch}, std::vector<float>(ch, 1.f)), true);
  Attributes a;
  a.set("epsilon", eps);
  a.set("momentum", momentum);
  return node("BatchNormalization", {x, scale, b, mean, var}, a, 1, name)[0];
}

std::string GraphBuilder::gemm(const std::string& x, int64_t in_f, int64_t out_f, bool bias, const std::string& name) {
  std::string base = scoped(name);
  float bound = 1.f / std::sqrt(static_cast<float>(in_f));
  std::vector<std::string> ins{x, add_initializer(base + ".weight", Tensor::floats({out_f, in_f}, uniform(out_f * in_f, bound)))};
  if (bias) ins.push_back(add_initializer(base + ".bias", Tensor::floats({out_f}, uniform(out_f, bound))));
  Attributes a;
  a.set("transB", int64_t{1});
  return node("Gemm", ins, a, 1, name)[0];
}

std::string GraphBuilder::relu(const std::string& x, const std::string& name) { return node("Relu", {x}, {}, 1, name)[0]; }

std::string GraphBuilder::clip(const std::string& x, double lo, double hi, const std::string& name) {
  std::string base = scoped(name);
  std::string l = add_initializer(base + ".min", Tensor::floats({}, {static_cast<float>(lo)}), true);
  std::string h = add_initializer(base + ".max", Tensor::floats({}, {static_cast<float>(hi)}), true);
  return node("Clip", {x, l, h}, {}, 1, name)[0];
}

std::string GraphBuilder::add(const std::string& a, const std::string& b, const std::string& name) {
  return node("Add", {a, b}, {}, 1, name)[0];
}

namespace {
Attributes pool_attrs(int64_t kernel, int64_t stride, int64_t pad) {
  Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{kernel, kernel});
  a.set("strides", std::vector<int64_t>{stride, stride});
  a.set("pads", std::vector<int64_t>{pad, pad, pad, pad});
  return a;
}
}  // namespace

std::string GraphBuilder::maxpool(const std::string& x, int64_t kernel, int64_t stride, int64_t pad, const std::string& name) {
  return node("MaxPool", {x}, pool_attrs(kernel, stride, pad), 1, name)[0];
}
std::string GraphBuilder::avgpool(const std::string& x, int64_t kernel, int64_t stride, int64_t pad, const std::string& name) {
  return node("AveragePool", {x}, pool_attrs(kernel, stride, pad), 1, name)[0];
}
std::string GraphBuilder::global_avgpool(const std::string& x, const std::string& name) {
  return node("GlobalAveragePool", {x}, {}, 1, name)[0];
}
std::string GraphBuilder::flatten(const std::string& x, const std::string& name) {
  Attributes a;
  a.set("axis", int64_t{1});
  return node("Flatten", {x}, a, 1, name)[0];
}
std::string GraphBuilder::dropout(const std::string& x, double ratio, const std::string& name) {
  Attributes a;
  a.set("ratio", ratio);
  return node("Dropout", {x}, a, 1, name)[0];
}

Graph GraphBuilder::finish() {
  g_.topological_sort();
  g_.validate();
  return g_;
}

}  // namespace qforge::ir
