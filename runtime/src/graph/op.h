// A compiled node: built once from its Node (constants available for preparation), then run on
// tensors. in[k] is null for an omitted optional input.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "graph/graph.h"

namespace qfrt {

using Inputs = std::vector<const Tensor*>;
using Outputs = std::vector<Tensor>;

class Op {
 public:
  virtual ~Op() = default;
  virtual void run(const Inputs& in, Outputs& out, Isa isa) = 0;
  // The kernel a prepared integer layer runs ("bitserial W2A2", ...); "" for the default.
  virtual std::string kernel() const { return ""; }
  // Whether run may be called from two threads at once (nothing prepared on a first run): batch parts
  // (batch_split.h) need it.
  virtual bool reentrant() const { return true; }
};

using OpFactory = std::function<std::unique_ptr<Op>(const Node&, const Graph&)>;
using OpTable = std::map<std::string, OpFactory>;

// Each ops_*.cpp adds its ops.
void add_elementwise_ops(OpTable& t);
void add_shape_ops(OpTable& t);
void add_float_nn_ops(OpTable& t);
void add_quant_ops(OpTable& t);
void add_pool_ops(OpTable& t);

// Throws Error naming the node for an op the runtime does not implement.
std::unique_ptr<Op> make_op(const Node& n, const Graph& g);
bool op_supported(const std::string& op);

// A stateless op from a function.
using OpFn = std::function<void(const Node&, const Inputs&, Outputs&, Isa)>;
OpFactory stateless(OpFn fn);

// Helpers for op code.
const Tensor& need(const Node& n, const Inputs& in, size_t k);  // throws when input k is missing
void expect_dtype(const Node& n, const Tensor& t, DType d, const char* what);

}  // namespace qfrt
