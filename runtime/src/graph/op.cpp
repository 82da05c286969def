#include "graph/op.h"

#include "core/error.h"

namespace qfrt {

namespace {
const OpTable& table() {
  static const OpTable t = [] {
    OpTable r;
    add_elementwise_ops(r);
    add_shape_ops(r);
    add_float_nn_ops(r);
    add_quant_ops(r);
    add_pool_ops(r);
    return r;
  }();
  return t;
}

class FnOp : public Op {
 public:
  FnOp(Node n, OpFn fn) : n_(std::move(n)), fn_(std::move(fn)) {}
  void run(const Inputs& in, Outputs& out, Isa isa) override { fn_(n_, in, out, isa); }

 private:
  Node n_;
  OpFn fn_;
};
}  // namespace

OpFactory stateless(OpFn fn) {
  return [fn](const Node& n, const Graph&) { return std::unique_ptr<Op>(new FnOp(n, fn)); };
}

bool op_supported(const std::string& op) { return table().count(op) != 0; }

std::unique_ptr<Op> make_op(const Node& n, const Graph& g) {
  auto it = table().find(n.op);
  if (it == table().end()) fail(n.label() + ": operator '" + n.op + "' is not supported by qforge_rt");
  return it->second(n, g);
}

const Tensor& need(const Node& n, const Inputs& in, size_t k) {
  if (k >= in.size() || !in[k]) fail(n.label() + ": input " + std::to_string(k) + " is required");
  return *in[k];
}

void expect_dtype(const Node& n, const Tensor& t, DType d, const char* what) {
  if (t.dtype != d) fail(n.label() + ": " + what + " must be " + dtype_name(d) + ", got " + dtype_name(t.dtype));
}

}  // namespace qfrt
