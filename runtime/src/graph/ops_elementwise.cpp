// Float elementwise ops: activations, Clip, broadcasting arithmetic, Min / Max, Softmax.
#include <cmath>

#include "core/error.h"
#include "graph/op.h"

namespace qfrt {

namespace {
// make(node) returns the elementwise function, so attributes are read once per run.
template <class Make> OpFactory unary(Make make) {
  return stateless([make](const Node& n, const Inputs& in, Outputs& out, Isa) {
    const Tensor& x = need(n, in, 0);
    expect_dtype(n, x, DType::F32, "the input");
    out[0] = Tensor(DType::F32, x.shape);
    const float* a = x.data<float>();
    float* y = out[0].data<float>();
    const int64_t cnt = x.numel();
    const auto f = make(n);
    for (int64_t i = 0; i < cnt; ++i) y[i] = f(a[i]);
  });
}

float scalar_input(const Node& n, const Inputs& in, size_t k, float def) {
  if (k >= in.size() || !in[k]) return def;
  if (in[k]->numel() != 1) fail(n.label() + ": input " + std::to_string(k) + " must be a scalar");
  return static_cast<float>(in[k]->as_double(0));
}

// f(a, b) with numpy broadcasting.
template <class F> Tensor broadcast_apply(const Node& n, const Tensor& a, const Tensor& b, F f) {
  expect_dtype(n, a, DType::F32, "input A");
  expect_dtype(n, b, DType::F32, "input B");
  const size_t r = std::max(a.shape.size(), b.shape.size());
  Shape s(r), sa(r, 1), sb(r, 1);
  for (size_t i = 0; i < a.shape.size(); ++i) sa[r - a.shape.size() + i] = a.shape[i];
  for (size_t i = 0; i < b.shape.size(); ++i) sb[r - b.shape.size() + i] = b.shape[i];
  for (size_t i = 0; i < r; ++i) {
    if (sa[i] != sb[i] && sa[i] != 1 && sb[i] != 1)
      fail(n.label() + ": shapes " + shape_str(a.shape) + " and " + shape_str(b.shape) + " do not broadcast");
    s[i] = sa[i] == 1 ? sb[i] : sa[i];
  }
  Tensor out(DType::F32, s);
  float* y = out.data<float>();
  const float *pa = a.data<float>(), *pb = b.data<float>();
  const int64_t cnt = out.numel();
  if (a.shape == b.shape) {
    for (int64_t i = 0; i < cnt; ++i) y[i] = f(pa[i], pb[i]);
    return out;
  }
  // Strides of each input in output coordinates (0 along broadcast dims).
  std::vector<int64_t> ta(r), tb(r);
  int64_t xa = 1, xb = 1;
  for (size_t i = r; i-- > 0;) {
    ta[i] = sa[i] == 1 ? 0 : xa;
    tb[i] = sb[i] == 1 ? 0 : xb;
    xa *= sa[i];
    xb *= sb[i];
  }
  std::vector<int64_t> idx(r, 0);
  int64_t oa = 0, ob = 0;
  for (int64_t i = 0; i < cnt; ++i) {
    y[i] = f(pa[oa], pb[ob]);
    for (size_t d = r; d-- > 0;) {
      ++idx[d];
      oa += ta[d];
      ob += tb[d];
      if (idx[d] < s[d]) break;
      oa -= ta[d] * s[d];
      ob -= tb[d] * s[d];
      idx[d] = 0;
    }
  }
  return out;
}

template <class F> OpFactory binary(F f) {
  return stateless([f](const Node& n, const Inputs& in, Outputs& out, Isa) {
    out[0] = broadcast_apply(n, need(n, in, 0), need(n, in, 1), f);
  });
}

// Min / Max: one or more inputs, folded pairwise with broadcasting.
template <class F> OpFactory variadic(F f) {
  return stateless([f](const Node& n, const Inputs& in, Outputs& out, Isa) {
    if (in.empty()) fail(n.label() + ": needs at least one input");
    Tensor y = need(n, in, 0);
    expect_dtype(n, y, DType::F32, "input 0");
    for (size_t k = 1; k < in.size(); ++k) y = broadcast_apply(n, y, need(n, in, k), f);
    out[0] = std::move(y);
  });
}

void softmax(const Node& n, const Inputs& in, Outputs& out, Isa) {
  const Tensor& x = need(n, in, 0);
  expect_dtype(n, x, DType::F32, "the input");
  int64_t axis = n.i("axis", -1);
  if (axis < 0) axis += x.rank();
  if (axis < 0 || axis >= x.rank()) fail(n.label() + ": axis out of range");
  int64_t outer = 1, len = x.dim(static_cast<int>(axis)), inner = 1;
  for (int i = 0; i < axis; ++i) outer *= x.dim(i);
  for (int i = static_cast<int>(axis) + 1; i < x.rank(); ++i) inner *= x.dim(i);
  out[0] = Tensor(DType::F32, x.shape);
  const bool log = n.op == "LogSoftmax";
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < inner; ++k) {
      const float* a = x.data<float>() + o * len * inner + k;
      float* y = out[0].data<float>() + o * len * inner + k;
      float mx = -INFINITY;
      for (int64_t i = 0; i < len; ++i) mx = std::max(mx, a[i * inner]);
      double sum = 0;
      for (int64_t i = 0; i < len; ++i) sum += std::exp(static_cast<double>(a[i * inner] - mx));
      for (int64_t i = 0; i < len; ++i)
        y[i * inner] = log ? static_cast<float>(a[i * inner] - mx - std::log(sum))
                           : static_cast<float>(std::exp(static_cast<double>(a[i * inner] - mx)) / sum);
    }
}
}  // namespace

void add_elementwise_ops(OpTable& t) {
  t["Relu"] = unary([](const Node&) { return [](float v) { return v > 0 ? v : 0.f; }; });
  t["Sigmoid"] = unary([](const Node&) { return [](float v) { return 1.f / (1.f + std::exp(-v)); }; });
  t["Tanh"] = unary([](const Node&) { return [](float v) { return std::tanh(v); }; });
  t["LeakyRelu"] = unary([](const Node& n) {
    const float alpha = n.f("alpha", 0.01f);
    return [alpha](float v) { return v >= 0 ? v : v * alpha; };
  });
  t["HardSigmoid"] = unary([](const Node& n) {
    const float alpha = n.f("alpha", 0.2f), beta = n.f("beta", 0.5f);
    return [alpha, beta](float v) { return std::max(0.f, std::min(1.f, alpha * v + beta)); };
  });
  t["HardSwish"] = unary([](const Node&) { return [](float v) { return v * std::max(0.f, std::min(1.f, v / 6.f + 0.5f)); }; });
  t["Clip"] = stateless([](const Node& n, const Inputs& in, Outputs& out, Isa) {
    const Tensor& x = need(n, in, 0);
    expect_dtype(n, x, DType::F32, "the input");
    const float lo = scalar_input(n, in, 1, n.f("min", -INFINITY)), hi = scalar_input(n, in, 2, n.f("max", INFINITY));
    out[0] = Tensor(DType::F32, x.shape);
    const float* a = x.data<float>();
    float* y = out[0].data<float>();
    const int64_t cnt = x.numel();
    for (int64_t i = 0; i < cnt; ++i) y[i] = std::min(hi, std::max(lo, a[i]));
  });
  t["Add"] = binary([](float a, float b) { return a + b; });
  t["Sub"] = binary([](float a, float b) { return a - b; });
  t["Mul"] = binary([](float a, float b) { return a * b; });
  t["Div"] = binary([](float a, float b) { return a / b; });
  // A per-channel clip is Min against a [C, 1, 1] bound; NaN propagates.
  t["Min"] = variadic([](float a, float b) { return a != a || b != b ? NAN : std::min(a, b); });
  t["Max"] = variadic([](float a, float b) { return a != a || b != b ? NAN : std::max(a, b); });
  t["Softmax"] = stateless(softmax);
  t["LogSoftmax"] = stateless(softmax);
}

}  // namespace qfrt
