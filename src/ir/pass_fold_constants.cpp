#include <functional>
#include <stdexcept>

#include "fold_ops.h"
#include "qforge/ir/index_math.h"
#include "qforge/ir/passes.h"

namespace qforge::ir {

namespace {
// Row-major strides for broadcasting an input shape to an output shape (0 where broadcast).
std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& in, const std::vector<int64_t>& out) {
  std::vector<int64_t> st(out.size(), 0);
  int64_t s = 1;
  for (size_t k = 0; k < in.size(); ++k) {
    size_t i = in.size() - 1 - k, o = out.size() - 1 - k;
    st[o] = in[i] == 1 ? 0 : s;
    s *= in[i];
  }
  return st;
}

std::vector<int64_t> broadcast_shape(const Node& n, const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  return with_reason([&] { return broadcast_shapes(a, b); }, [&](const std::string& why) {
    throw std::runtime_error("constant folding: node '" + n.name + "' (" + n.op + "): " + why);
  });
}

template <typename T>
Tensor binary(const Node& n, const Tensor& a, const Tensor& b, DType dt, const std::function<T(T, T)>& f) {
  std::vector<int64_t> shape = broadcast_shape(n, a.shape, b.shape);
  Tensor out(dt, shape);
  std::vector<int64_t> sa = broadcast_strides(a.shape, shape), sb = broadcast_strides(b.shape, shape);
  std::vector<T> va, vb;
  if constexpr (std::is_same_v<T, float>) va = a.to_floats(), vb = b.to_floats();
  else va = a.to_int64s(), vb = b.to_int64s();
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t i = 0; i < out.numel(); ++i) {
    int64_t ia = 0, ib = 0;
    for (size_t d = 0; d < shape.size(); ++d) ia += idx[d] * sa[d], ib += idx[d] * sb[d];
    out.data<T>()[i] = f(va[ia], vb[ib]);
    for (size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

Tensor arith(const Node& n, const Tensor& a, const Tensor& b) {
  bool is_float = a.dtype == DType::Float32 || b.dtype == DType::Float32;
  const std::string& op = n.op;
  if (is_float) {
    std::function<float(float, float)> f = op == "Add"   ? [](float x, float y) { return x + y; }
                                          : op == "Sub" ? [](float x, float y) { return x - y; }
                                          : op == "Mul" ? [](float x, float y) { return x * y; }
                                                        : [](float x, float y) { return x / y; };
    return binary<float>(n, a, b, DType::Float32, f);
  }
  std::function<int64_t(int64_t, int64_t)> f = op == "Add"   ? [](int64_t x, int64_t y) { return x + y; }
                                              : op == "Sub" ? [](int64_t x, int64_t y) { return x - y; }
                                              : op == "Mul" ? [](int64_t x, int64_t y) { return x * y; }
                                                            : [](int64_t x, int64_t y) { return y ? x / y : 0; };
  return binary<int64_t>(n, a, b, DType::Int64, f);
}

Tensor transpose(const Node& n, const Tensor& x) {
  std::vector<int64_t> perm;
  for (size_t d = x.shape.size(); d-- > 0;) perm.push_back(static_cast<int64_t>(d));
  perm = n.attrs.ints("perm", perm);
  std::vector<int64_t> shape;
  for (int64_t p : perm) shape.push_back(x.shape.at(p));
  Tensor out(x.dtype, shape);
  std::vector<int64_t> in_strides(x.shape.size(), 1);
  for (size_t d = x.shape.size(); d-- > 1;) in_strides[d - 1] = in_strides[d] * x.shape[d];
  const size_t es = dtype_size(x.dtype);
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t i = 0; i < out.numel(); ++i) {
    int64_t src = 0;
    for (size_t d = 0; d < shape.size(); ++d) src += idx[d] * in_strides[perm[d]];
    std::memcpy(out.bytes.data() + i * es, x.bytes.data() + src * es, es);
    for (size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

Tensor reshape(const Node& n, const Tensor& x, std::vector<int64_t> shape) {
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && !n.attrs.i("allowzero", 0)) shape[i] = x.shape.at(i);
    if (shape[i] == -1) infer = static_cast<int64_t>(i);
    else known *= shape[i];
  }
  if (infer >= 0) shape[infer] = known ? x.numel() / known : 0;
  Tensor out = x;
  out.shape = shape;
  if (out.numel() != x.numel())
    throw std::runtime_error("constant folding: node '" + n.name + "' cannot reshape " + shape_str(x.shape) + " to " +
                             shape_str(shape));
  return out;
}

// Returns false when the op is not one this pass evaluates.
bool evaluate(const Node& n, const std::vector<const Tensor*>& in, Tensor& out) {
  const std::string& op = n.op;
  if (op == "Identity") out = *in[0];
  else if (op == "Reshape") out = reshape(n, *in[0], in[1]->to_int64s());
  else if (op == "Flatten") {
    int64_t axis = n.attrs.i("axis", 1), rank = static_cast<int64_t>(in[0]->shape.size());
    if (axis < 0) axis += rank;
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= in[0]->shape[d];
    out = *in[0];
    out.shape = {outer, outer ? in[0]->numel() / outer : 0};
  } else if (op == "Transpose") out = transpose(n, *in[0]);
  else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") out = arith(n, *in[0], *in[1]);
  else if (op == "Relu" && in[0]->dtype == DType::Float32) {
    out = *in[0];
    for (int64_t i = 0; i < out.numel(); ++i) out.data<float>()[i] = std::max(0.f, out.data<float>()[i]);
  } else if (op == "Concat" && in[0]->shape.size() == 1) {
    out = *in[0];
    for (size_t k = 1; k < in.size(); ++k) {
      if (in[k]->dtype != out.dtype) return false;
      out.bytes.insert(out.bytes.end(), in[k]->bytes.begin(), in[k]->bytes.end());
      out.shape[0] += in[k]->shape.at(0);
    }
  } else return fold::evaluate_data_op(n, in, out);
  return true;
}
}  // namespace

int fold_constants(Graph& g, bool fold_parameters) {
  int folded = 0;
  std::vector<Node> kept;
  for (Node& n : g.nodes) {
    std::vector<const Tensor*> in;
    bool all_const = !n.inputs.empty() && n.outputs.size() == 1 && !g.is_output(n.outputs[0]);
    for (const std::string& v : n.inputs) {
      if (v.empty() || !g.is_initializer(v) || (!fold_parameters && !g.buffers.count(v) &&
                                                 g.initializers.at(v).dtype == DType::Float32)) {
        all_const = false;
        break;
      }
      in.push_back(&g.initializers.at(v));
    }
    Tensor out;
    if (all_const && evaluate(n, in, out)) {
      g.initializers[n.outputs[0]] = std::move(out);
      g.buffers.insert(n.outputs[0]);
      ++folded;
    } else {
      kept.push_back(std::move(n));
    }
  }
  g.nodes = std::move(kept);
  if (folded) eliminate_dead_nodes(g);
  return folded;
}

}  // namespace qforge::ir
