// Concat, Flatten, Reshape, Transpose, Pad.
#include "shape_rules.h"

namespace qforge::ir::shape {

namespace {

std::vector<ValueInfo> concat(const Ctx& c) {
  if (c.num_inputs() < 1) c.fail("takes at least 1 input, got 0");
  const ValueInfo& first = c.in(0);
  const int64_t rank = static_cast<int64_t>(first.shape.size());
  if (rank == 0) c.fail("cannot concatenate scalars");
  const int64_t ax = axis(c, c.attrs().i("axis"), rank);
  std::vector<int64_t> out = first.shape;
  for (size_t k = 1; k < c.num_inputs(); ++k) {
    const ValueInfo& v = c.in(k);
    bool ok = static_cast<int64_t>(v.shape.size()) == rank && v.dtype == first.dtype;
    for (int64_t d = 0; ok && d < rank; ++d) ok = d == ax || v.shape[d] == first.shape[d];
    if (!ok)
      c.fail("input " + std::to_string(k) + " " + dtype_name(v.dtype) + " " + str(v.shape) + " does not fit input 0 " +
             dtype_name(first.dtype) + " " + str(first.shape) + " along axis " + std::to_string(ax));
    out[ax] += v.shape[ax];
  }
  return {info(first.dtype, out)};
}

std::vector<ValueInfo> flatten(const Ctx& c) {
  c.arity(1, 1);
  const ValueInfo& x = c.in(0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  const int64_t ax = axis(c, c.attrs().i("axis", 1), rank, true);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d) (d < ax ? outer : inner) *= x.shape[d];
  return {info(x.dtype, {outer, inner})};
}

std::vector<ValueInfo> reshape(const Ctx& c) {
  c.arity(2, 2);
  const ValueInfo& x = c.in(0);
  c.in(1);  // must be known
  const Tensor* t = c.constant(1);
  if (!t) c.fail("shape input '" + c.node().inputs[1] + "' is not an initializer; only constant shapes are supported");
  if (t->dtype != DType::Int64 && t->dtype != DType::Int32) c.fail(std::string("shape input has type ") + dtype_name(t->dtype) + ", expected int64");
  if (t->shape.size() != 1) c.fail("shape input " + str(t->shape) + " must be 1-D");
  std::vector<int64_t> out = t->to_int64s();
  const std::vector<int64_t> spec = out;
  const bool allowzero = c.attrs().i("allowzero", 0) != 0;
  int64_t infer = -1, known = 1;
  for (size_t d = 0; d < out.size(); ++d) {
    if (out[d] == -1) {
      if (infer >= 0) c.fail("shape " + str(spec) + " has more than one -1");
      infer = static_cast<int64_t>(d);
      continue;
    }
    if (out[d] < -1) c.fail("shape " + str(spec) + " has an invalid entry " + std::to_string(out[d]));
    if (out[d] == 0 && !allowzero) {
      if (d >= x.shape.size()) c.fail("shape " + str(spec) + " copies dimension " + std::to_string(d) + " (0) that input " + str(x.shape) + " does not have");
      out[d] = x.shape[d];
    }
    known *= out[d];
  }
  const int64_t total = numel(x.shape);
  if (infer >= 0) {
    if (known == 0 || total % known)
      c.fail("cannot reshape input " + str(x.shape) + " (" + std::to_string(total) + " elements) to " + str(spec));
    out[infer] = total / known;
  } else if (known != total) {
    c.fail("cannot reshape input " + str(x.shape) + " (" + std::to_string(total) + " elements) to " + str(spec) + " (" +
           std::to_string(known) + " elements)");
  }
  return {info(x.dtype, out)};
}

std::vector<ValueInfo> transpose(const Ctx& c) {
  c.arity(1, 1);
  const ValueInfo& x = c.in(0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  std::vector<int64_t> perm;
  for (int64_t d = rank; d-- > 0;) perm.push_back(d);
  perm = c.attrs().ints("perm", perm);
  std::vector<bool> used(static_cast<size_t>(rank), false);
  bool ok = static_cast<int64_t>(perm.size()) == rank;
  for (size_t i = 0; ok && i < perm.size(); ++i) {
    ok = perm[i] >= 0 && perm[i] < rank && !used[perm[i]];
    if (ok) used[perm[i]] = true;
  }
  if (!ok) c.fail("perm " + str(perm) + " is not a permutation of the " + std::to_string(rank) + " axes of input " + str(x.shape));
  std::vector<int64_t> out;
  for (int64_t p : perm) out.push_back(x.shape[p]);
  return {info(x.dtype, out)};
}

}  // namespace

std::vector<ValueInfo> pad(const Ctx& c) {
  c.arity(1, 4);
  const ValueInfo& x = c.in(0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  std::vector<int64_t> pads;
  if (c.has(1)) {
    const Tensor* t = c.constant(1);
    if (!t) c.fail("pads must be a constant to give a static shape");
    pads = t->to_int64s();
  } else {
    pads = c.attrs().ints("pads", {});
  }
  if (static_cast<int64_t>(pads.size()) != 2 * rank)
    c.fail("pads has " + std::to_string(pads.size()) + " entries; input " + str(x.shape) + " needs " + std::to_string(2 * rank));
  std::vector<int64_t> out = x.shape;
  for (int64_t d = 0; d < rank; ++d) {
    if (out[d] < 0) continue;  // dynamic (batch) stays dynamic
    out[d] += pads[d] + pads[d + rank];
    if (out[d] < 0) c.fail("pads crop axis " + std::to_string(d) + " of " + str(x.shape) + " below zero");
  }
  return {info(x.dtype, out)};
}

void add_layout_rules(std::map<std::string, Rule>& r) {
  r["Pad"] = pad;
  r["Concat"] = concat;
  r["Flatten"] = flatten;
  r["Reshape"] = reshape;
  r["Transpose"] = transpose;
}

}  // namespace qforge::ir::shape
