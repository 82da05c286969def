// Data-movement ops; they work on any dtype, so quantized tensors pass through them unchanged.
#include "core/error.h"
#include "graph/op.h"

namespace qfrt {

namespace {
Tensor with_shape(const Tensor& x, Shape s) {
  Tensor y = x;
  y.shape = std::move(s);
  return y;
}

void flatten(const Node& n, const Inputs& in, Outputs& out, Isa) {
  const Tensor& x = need(n, in, 0);
  int64_t axis = n.i("axis", 1);
  if (axis < 0) axis += x.rank();
  if (axis < 0 || axis > x.rank()) fail(n.label() + ": axis out of range for shape " + shape_str(x.shape));
  int64_t a = 1;
  for (int i = 0; i < axis; ++i) a *= x.dim(i);
  out[0] = with_shape(x, {a, a ? x.numel() / a : 0});
}

void reshape(const Node& n, const Inputs& in, Outputs& out, Isa) {
  const Tensor &x = need(n, in, 0), &sh = need(n, in, 1);
  expect_dtype(n, sh, DType::I64, "the shape");
  Shape s(sh.data<int64_t>(), sh.data<int64_t>() + sh.numel());
  int64_t known = 1, infer = -1;
  const bool allowzero = n.i("allowzero", 0) != 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == 0 && !allowzero) {
      if (i >= x.shape.size()) fail(n.label() + ": 0 in shape refers past the input's rank");
      s[i] = x.shape[i];
    }
    if (s[i] == -1) {
      if (infer >= 0) fail(n.label() + ": more than one -1 in shape");
      infer = static_cast<int64_t>(i);
    } else if (s[i] < 0) {
      fail(n.label() + ": negative dimension in shape");
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || x.numel() % known) fail(n.label() + ": cannot reshape " + shape_str(x.shape) + " to " + shape_str(s));
    s[static_cast<size_t>(infer)] = x.numel() / known;
  }
  if (numel_of(s) != x.numel()) fail(n.label() + ": cannot reshape " + shape_str(x.shape) + " to " + shape_str(s));
  out[0] = with_shape(x, s);
}

void transpose(const Node& n, const Inputs& in, Outputs& out, Isa) {
  const Tensor& x = need(n, in, 0);
  const int r = x.rank();
  std::vector<int64_t> perm = n.ints("perm", {});
  if (perm.empty())
    for (int i = r - 1; i >= 0; --i) perm.push_back(i);
  if (static_cast<int>(perm.size()) != r) fail(n.label() + ": perm has the wrong length");
  Shape s(static_cast<size_t>(r));
  std::vector<int64_t> xs(static_cast<size_t>(r), 1);
  for (int i = r - 2; i >= 0; --i) xs[static_cast<size_t>(i)] = xs[static_cast<size_t>(i + 1)] * x.shape[static_cast<size_t>(i + 1)];
  for (int i = 0; i < r; ++i) {
    if (perm[static_cast<size_t>(i)] < 0 || perm[static_cast<size_t>(i)] >= r) fail(n.label() + ": bad perm");
    s[static_cast<size_t>(i)] = x.shape[static_cast<size_t>(perm[static_cast<size_t>(i)])];
  }
  out[0] = Tensor(x.dtype, s);
  const size_t es = dtype_size(x.dtype);
  std::vector<int64_t> idx(static_cast<size_t>(r), 0);
  const int64_t cnt = x.numel();
  for (int64_t o = 0; o < cnt; ++o) {
    int64_t src = 0;
    for (int i = 0; i < r; ++i) src += idx[static_cast<size_t>(i)] * xs[static_cast<size_t>(perm[static_cast<size_t>(i)])];
    std::memcpy(out[0].bytes.data() + o * static_cast<int64_t>(es), x.bytes.data() + src * static_cast<int64_t>(es), es);
    for (int d = r - 1; d >= 0; --d) {
      if (++idx[static_cast<size_t>(d)] < s[static_cast<size_t>(d)]) break;
      idx[static_cast<size_t>(d)] = 0;
    }
  }
}

void concat(const Node& n, const Inputs& in, Outputs& out, Isa) {
  const Tensor& first = need(n, in, 0);
  int64_t axis = n.i("axis", 1);
  if (axis < 0) axis += first.rank();
  if (axis < 0 || axis >= first.rank()) fail(n.label() + ": axis out of range");
  Shape s = first.shape;
  s[static_cast<size_t>(axis)] = 0;
  for (size_t k = 0; k < in.size(); ++k) {
    const Tensor& t = need(n, in, k);
    if (t.dtype != first.dtype || t.rank() != first.rank()) fail(n.label() + ": inputs differ in type or rank");
    for (int d = 0; d < t.rank(); ++d)
      if (d != axis && t.dim(d) != first.dim(d)) fail(n.label() + ": input shapes differ off the concat axis");
    s[static_cast<size_t>(axis)] += t.dim(static_cast<int>(axis));
  }
  out[0] = Tensor(first.dtype, s);
  int64_t outer = 1, inner = static_cast<int64_t>(dtype_size(first.dtype));
  for (int d = 0; d < axis; ++d) outer *= s[static_cast<size_t>(d)];
  for (int d = static_cast<int>(axis) + 1; d < first.rank(); ++d) inner *= s[static_cast<size_t>(d)];
  uint8_t* y = out[0].bytes.data();
  const int64_t row = s[static_cast<size_t>(axis)] * inner;
  int64_t at = 0;
  for (const Tensor* t : in) {
    const int64_t len = t->dim(static_cast<int>(axis)) * inner;
    for (int64_t o = 0; o < outer; ++o) std::memcpy(y + o * row + at, t->bytes.data() + o * len, static_cast<size_t>(len));
    at += len;
  }
}
}  // namespace

void add_shape_ops(OpTable& t) {
  auto pass = stateless([](const Node& n, const Inputs& in, Outputs& out, Isa) {
    if (n.outputs.size() > 1 && !n.outputs[1].empty()) fail(n.label() + ": the mask output is not supported");
    out[0] = need(n, in, 0);
  });
  t["Identity"] = pass;
  t["Dropout"] = pass;
  t["Flatten"] = stateless(flatten);
  t["Reshape"] = stateless(reshape);
  t["Transpose"] = stateless(transpose);
  t["Concat"] = stateless(concat);
}

}  // namespace qfrt
