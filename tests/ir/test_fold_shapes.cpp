// Shape-arithmetic folding (fold_shapes) and the index arithmetic shared by shape inference, constant
// folding and the executor (index_math.h).
#include <gtest/gtest.h>

#include "qforge/ir/index_math.h"
#include "qforge/ir/passes.h"
#include "qforge/ir/shape_inference.h"

using namespace qforge;
using V = std::vector<int64_t>;

TEST(IndexMath, SliceClampsAndWalksBackwards) {
  auto plan = ir::slice_plan({10, 4}, {2, -1}, {100, -5}, {0, 1}, {3, -1});
  EXPECT_EQ(plan.at(0), (V{2, 5, 8}));     // end clamped to 10
  EXPECT_EQ(plan.at(1), (V{3, 2, 1, 0}));  // -1 -> 3 down to the clamped end -1 (exclusive)
  EXPECT_EQ(ir::slice_plan({5}, {3}, {1}, {}, {}).at(0), V{});  // empty forward range
  EXPECT_THROW(ir::slice_plan({5}, {0}, {1}, {}, {0}), std::invalid_argument);
  EXPECT_THROW(ir::slice_plan({5}, {0}, {1}, {1}, {}), std::invalid_argument);  // axis out of range
}

TEST(IndexMath, SqueezeUnsqueezeSplitBroadcast) {
  EXPECT_EQ(ir::unsqueeze_shape({3, 4}, {0, -1}), (V{1, 3, 4, 1}));
  EXPECT_THROW(ir::unsqueeze_shape({3}, {0, 0}), std::invalid_argument);
  EXPECT_EQ(ir::squeeze_shape({1, 3, 1}, {}), V{3});
  EXPECT_EQ(ir::squeeze_shape({1, 3, 1}, {-1}), (V{1, 3}));
  EXPECT_THROW(ir::squeeze_shape({1, 3}, {1}), std::invalid_argument);
  EXPECT_EQ(ir::split_sizes(6, 3, {}), (V{2, 2, 2}));
  EXPECT_EQ(ir::split_sizes(6, 2, {1, 5}), (V{1, 5}));
  EXPECT_THROW(ir::split_sizes(7, 2, {}), std::invalid_argument);
  EXPECT_THROW(ir::split_sizes(6, 2, {1, 4}), std::invalid_argument);
  EXPECT_EQ(ir::broadcast_shapes({3, 1}, {1, 4}), (V{3, 4}));
  EXPECT_THROW(ir::broadcast_shapes({3}, {4}), std::invalid_argument);
  EXPECT_EQ(ir::shape_range(1, 100, 4), (std::pair<int64_t, int64_t>{1, 4}));
  EXPECT_EQ(ir::shape_range(-2, -3, 4), (std::pair<int64_t, int64_t>{2, 2}));
}

namespace {
ir::Node node(std::string op, std::vector<std::string> in, std::string out) {
  ir::Node n;
  n.name = out + "_node", n.op = std::move(op), n.inputs = std::move(in), n.outputs = {std::move(out)};
  return n;
}

// x [N, 6, 2] -> view(x.size(0), 2, x.size(1) / 2, 2) -> flatten to [x.size(0) * 12] -> view(-1, 12):
// torch.onnx's channel-shuffle arithmetic, plus a reshape whose batch entry is not the leading one.
ir::Graph shuffle_graph(int64_t declared_batch) {
  ir::Graph g;
  g.inputs = {{"x", ir::DType::Float32, {declared_batch, 6, 2}}};
  g.outputs = {{"y", ir::DType::Float32, {}}};
  auto c = [&](const std::string& name, V v) {
    g.initializers[name] = ir::Tensor::int64s(v.size() == 1 && name.find("scalar") != std::string::npos ? V{} : V{static_cast<int64_t>(v.size())}, v);
    g.buffers.insert(name);
  };
  c("i0_scalar", {0}), c("i1_scalar", {1}), c("two_scalar", {2}), c("axes0", {0}), c("groups", {2}), c("last", {2});
  c("twelve", {12}), c("twelve_scalar", {12}), c("minus1", {-1});
  g.nodes = {node("Shape", {"x"}, "s"),
             node("Gather", {"s", "i0_scalar"}, "n"),
             node("Gather", {"s", "i1_scalar"}, "ch"),
             node("Div", {"ch", "two_scalar"}, "half"),
             node("Unsqueeze", {"n", "axes0"}, "n1"),
             node("Unsqueeze", {"half", "axes0"}, "h1"),
             node("Concat", {"n1", "groups", "h1", "last"}, "target"),
             node("Reshape", {"x", "target"}, "r"),
             node("Mul", {"n", "twelve_scalar"}, "total"),  // a flat view whose batch entry is all of it
             node("Unsqueeze", {"total", "axes0"}, "flat_shape"),
             node("Reshape", {"r", "flat_shape"}, "flat"),
             node("Concat", {"minus1", "twelve"}, "rows_shape"),
             node("Reshape", {"flat", "rows_shape"}, "y")};
  g.nodes[6].attrs.set("axis", int64_t{0});
  g.nodes[11].attrs.set("axis", int64_t{0});
  return g;
}
}  // namespace

TEST(FoldShapes, ReshapeTargetsBecomeStaticAndBatchFree) {
  for (int64_t declared : {int64_t{-1}, int64_t{1}, int64_t{2}}) {
    SCOPED_TRACE(declared);
    ir::Graph g = shuffle_graph(declared);
    EXPECT_GT(ir::fold_shapes(g), 0);
    ASSERT_EQ(g.nodes.size(), 3u);  // the three Reshapes
    // The batch entry becomes "copy dimension 0" where it leads, else the one inferred (-1) entry.
    EXPECT_EQ(g.initializers.at(g.nodes[0].inputs[1]).to_int64s(), (V{0, 2, 3, 2}));
    EXPECT_EQ(g.initializers.at(g.nodes[1].inputs[1]).to_int64s(), V{-1});
    EXPECT_EQ(g.initializers.at(g.nodes[2].inputs[1]).to_int64s(), (V{-1, 12}));
    // infer_shapes sets only a dynamic (-1) leading dimension to the batch it is given.
    for (int64_t b : {1, 3, 7}) EXPECT_EQ(ir::infer_shapes(g, b).at("y").shape, (V{declared < 0 ? b : declared, 12}));
    ir::Graph any_batch = g;
    any_batch.inputs[0].shape[0] = -1;
    for (int64_t b : {1, 3, 7}) EXPECT_EQ(ir::infer_shapes(any_batch, b).at("y").shape, (V{b, 12}));
  }
}

TEST(FoldShapes, GraphsWithoutShapeOpsAreUntouched) {
  ir::Graph g;
  g.inputs = {{"x", ir::DType::Float32, {-1, 4}}};
  g.outputs = {{"y", ir::DType::Float32, {}}};
  g.nodes = {node("Relu", {"x"}, "y")};
  EXPECT_EQ(ir::fold_shapes(g), 0);
  EXPECT_EQ(g.nodes.size(), 1u);
}
