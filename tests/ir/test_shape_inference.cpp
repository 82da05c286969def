// Static shape inference: every supported op's ONNX shape rule, and errors that name the node.
#include <gtest/gtest.h>

#include <functional>

#include "qforge/ir/builder.h"
#include "qforge/ir/shape_inference.h"

using namespace qforge;
using Shape = std::vector<int64_t>;

namespace {

// A graph of one node `op` named "n" reading `ins` (graph inputs, or initializers when given as
// constants), with output "y"; returns y's inferred shape.
struct OneNode {
  ir::Graph g;
  OneNode(const std::string& op, const std::vector<Shape>& input_shapes, ir::Attributes a = {},
          const std::map<size_t, ir::Tensor>& constants = {}, int num_outputs = 1) {
    g.name = "t";
    ir::Node n{"n", op, {}, {"y"}, std::move(a)};
    for (int k = 1; k < num_outputs; ++k) n.outputs.push_back("y" + std::to_string(k));
    for (size_t k = 0; k < input_shapes.size() + constants.size(); ++k) {
      std::string v = "x" + std::to_string(k);
      if (constants.count(k)) g.initializers[v] = constants.at(k);
      else g.inputs.push_back({v, ir::DType::Float32, input_shapes.at(k - count_constants_before(constants, k))});
      n.inputs.push_back(v);
    }
    g.nodes.push_back(n);
    g.outputs.push_back({"y", ir::DType::Float32, {}});
  }
  static size_t count_constants_before(const std::map<size_t, ir::Tensor>& c, size_t k) {
    size_t n = 0;
    for (const auto& [i, t] : c) n += i < k;
    return n;
  }
  Shape out(int64_t batch = 1, const std::string& v = "y") const { return ir::infer_shapes(g, batch).at(v).shape; }
};

ir::Attributes attrs(std::initializer_list<std::pair<std::string, ir::Attribute>> kv) {
  ir::Attributes a;
  for (const auto& [k, v] : kv) a.set(k, v);
  return a;
}

ir::Tensor ones(const Shape& s) {
  ir::Tensor t(ir::DType::Float32, s);
  return t;
}

// The message of the std::runtime_error that f throws ("" if none).
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST(ShapeInference, ValuesIncludeInputsInitializersAndOutputsWithBatch) {
  ir::GraphBuilder b("g");
  std::string x = b.input("input", {-1, 3, 8, 8});
  x = b.conv(x, 3, 4, 3, 1, 1, 1, true, "conv");
  b.output(b.relu(x), "out");
  ir::Graph g = b.finish();
  auto v = ir::infer_shapes(g, 5);
  EXPECT_EQ(v.at("input").shape, (Shape{5, 3, 8, 8}));
  EXPECT_EQ(v.at("conv.weight").shape, (Shape{4, 3, 3, 3}));
  EXPECT_EQ(v.at("conv.bias").shape, (Shape{4}));
  EXPECT_EQ(v.at(g.find_node("conv")->outputs[0]).shape, (Shape{5, 4, 8, 8}));
  EXPECT_EQ(v.at("out").shape, (Shape{5, 4, 8, 8}));
  EXPECT_EQ(v.at("out").name, "out");
  EXPECT_EQ(v.at("out").dtype, ir::DType::Float32);
  EXPECT_EQ(ir::infer_shapes(g).at("out").shape[0], 1);  // batch defaults to 1
}

TEST(ShapeInference, OnlyTheBatchDimensionMayBeDynamic) {
  OneNode t("Relu", {{-1, 3, -1, 8}});
  EXPECT_TRUE(has(error_of([&] { t.out(); }), "dynamic dimension 2")) << error_of([&] { t.out(); });
}

TEST(ShapeInference, ConvExplicitPadsStridesDilationsGroups) {
  // pads are [top, left, bottom, right]
  OneNode a("Conv", {{2, 3, 8, 8}}, attrs({{"pads", Shape{0, 1, 2, 3}}}), {{1, ones({5, 3, 3, 3})}});
  EXPECT_EQ(a.out(), (Shape{2, 5, 8, 10}));
  OneNode s("Conv", {{1, 3, 32, 32}}, attrs({{"strides", Shape{2, 2}}, {"pads", Shape{1, 1, 1, 1}}}), {{1, ones({16, 3, 3, 3})}});
  EXPECT_EQ(s.out(), (Shape{1, 16, 16, 16}));
  OneNode d("Conv", {{1, 3, 10, 10}}, attrs({{"dilations", Shape{2, 2}}}), {{1, ones({4, 3, 3, 3})}});
  EXPECT_EQ(d.out(), (Shape{1, 4, 6, 6}));  // effective kernel 5
  OneNode dw("Conv", {{1, 8, 9, 9}}, attrs({{"group", int64_t{8}}, {"kernel_shape", Shape{3, 3}}, {"strides", Shape{2, 2}}}),
             {{1, ones({8, 1, 3, 3})}});
  EXPECT_EQ(dw.out(), (Shape{1, 8, 4, 4}));
  OneNode c1("Conv", {{1, 2, 20}}, attrs({{"strides", Shape{3}}}), {{1, ones({4, 2, 5})}, {2, ones({4})}});
  EXPECT_EQ(c1.out(), (Shape{1, 4, 6}));  // 1-D, kernel from the weight, with bias
}

TEST(ShapeInference, ConvAutoPad) {
  auto conv = [](const std::string& pad, int64_t size, int64_t stride) {
    return OneNode("Conv", {{1, 3, size, size}}, attrs({{"auto_pad", pad}, {"strides", Shape{stride, stride}}}),
                   {{1, ones({2, 3, 3, 3})}})
        .out();
  };
  EXPECT_EQ(conv("SAME_UPPER", 7, 2), (Shape{1, 2, 4, 4}));
  EXPECT_EQ(conv("SAME_LOWER", 7, 2), (Shape{1, 2, 4, 4}));
  EXPECT_EQ(conv("SAME_UPPER", 8, 1), (Shape{1, 2, 8, 8}));
  EXPECT_EQ(conv("VALID", 7, 2), (Shape{1, 2, 3, 3}));
  EXPECT_EQ(conv("NOTSET", 7, 1), (Shape{1, 2, 5, 5}));
  EXPECT_TRUE(has(error_of([&] { conv("SAME", 7, 1); }), "auto_pad 'SAME'"));
}

TEST(ShapeInference, ConvErrorsShowBothShapes) {
  OneNode ch("Conv", {{1, 4, 8, 8}}, {}, {{1, ones({16, 3, 3, 3})}});
  std::string e = error_of([&] { ch.out(); });
  EXPECT_TRUE(has(e, "shape inference: node 'n' (Conv)")) << e;
  EXPECT_TRUE(has(e, "[1, 4, 8, 8]") && has(e, "[16, 3, 3, 3]")) << e;

  OneNode k("Conv", {{1, 3, 8, 8}}, attrs({{"kernel_shape", Shape{5, 5}}}), {{1, ones({16, 3, 3, 3})}});
  EXPECT_TRUE(has(error_of([&] { k.out(); }), "kernel_shape [5, 5]"));
  OneNode big("Conv", {{1, 3, 2, 2}}, {}, {{1, ones({16, 3, 3, 3})}});
  EXPECT_TRUE(has(error_of([&] { big.out(); }), "does not fit")) << error_of([&] { big.out(); });
  OneNode bias("Conv", {{1, 3, 8, 8}}, {}, {{1, ones({16, 3, 3, 3})}, {2, ones({8})}});
  EXPECT_TRUE(has(error_of([&] { bias.out(); }), "bias [8]"));
}

TEST(ShapeInference, PoolingFloorAndCeilMode) {
  auto pool = [](const std::string& op, Shape in, int64_t k, int64_t s, int64_t p, int64_t ceil) {
    return OneNode(op, {in}, attrs({{"kernel_shape", Shape{k, k}}, {"strides", Shape{s, s}}, {"pads", Shape{p, p, p, p}},
                                    {"ceil_mode", ceil}}))
        .out();
  };
  EXPECT_EQ(pool("MaxPool", {1, 1, 6, 6}, 3, 2, 0, 0), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(pool("MaxPool", {1, 1, 6, 6}, 3, 2, 0, 1), (Shape{1, 1, 3, 3}));
  EXPECT_EQ(pool("AveragePool", {1, 1, 6, 6}, 3, 2, 0, 1), (Shape{1, 1, 3, 3}));
  EXPECT_EQ(pool("MaxPool", {1, 64, 112, 112}, 3, 2, 1, 0), (Shape{1, 64, 56, 56}));
  EXPECT_EQ(pool("MaxPool", {1, 64, 112, 112}, 3, 2, 1, 1), (Shape{1, 64, 57, 57}));
  // ceil mode drops a last window that would start inside the end padding (as PyTorch does):
  // 5 + 2*1 - 2 = 5, ceil(5/2) + 1 = 4, but window 4 starts at 6 >= 5 + 1, so 3.
  EXPECT_EQ(pool("MaxPool", {1, 1, 5, 5}, 2, 2, 1, 1), (Shape{1, 1, 3, 3}));
  EXPECT_EQ(pool("MaxPool", {1, 1, 5, 5}, 2, 2, 1, 0), (Shape{1, 1, 3, 3}));
  OneNode same("MaxPool", {{1, 2, 7, 7}}, attrs({{"kernel_shape", Shape{3, 3}}, {"strides", Shape{2, 2}}, {"auto_pad", std::string("SAME_UPPER")}}));
  EXPECT_EQ(same.out(), (Shape{1, 2, 4, 4}));
  OneNode dil("MaxPool", {{1, 2, 9, 9}}, attrs({{"kernel_shape", Shape{3, 3}}, {"dilations", Shape{2, 2}}}));
  EXPECT_EQ(dil.out(), (Shape{1, 2, 5, 5}));
  OneNode idx("MaxPool", {{1, 2, 4, 4}}, attrs({{"kernel_shape", Shape{2, 2}}, {"strides", Shape{2, 2}}}), {}, 2);
  auto v = ir::infer_shapes(idx.g);
  EXPECT_EQ(v.at("y1").shape, (Shape{1, 2, 2, 2}));
  EXPECT_EQ(v.at("y1").dtype, ir::DType::Int64);
  OneNode nok("MaxPool", {{1, 2, 4, 4}});
  EXPECT_TRUE(has(error_of([&] { nok.out(); }), "kernel_shape"));
  EXPECT_EQ(OneNode("GlobalAveragePool", {{3, 7, 5, 6}}).out(), (Shape{3, 7, 1, 1}));
  EXPECT_EQ(OneNode("GlobalMaxPool", {{3, 7, 5}}).out(), (Shape{3, 7, 1}));
}

TEST(ShapeInference, GemmTransposesAndBias) {
  EXPECT_EQ(OneNode("Gemm", {{4, 10}}, attrs({{"transB", int64_t{1}}}), {{1, ones({5, 10})}}).out(), (Shape{4, 5}));
  EXPECT_EQ(OneNode("Gemm", {{10, 4}, {10, 5}}, attrs({{"transA", int64_t{1}}})).out(), (Shape{4, 5}));
  EXPECT_EQ(OneNode("Gemm", {{4, 10}, {10, 5}, {5}}).out(), (Shape{4, 5}));
  EXPECT_EQ(OneNode("Gemm", {{4, 10}, {10, 5}, {4, 1}}).out(), (Shape{4, 5}));
  std::string e = error_of([] { OneNode("Gemm", {{4, 10}, {5, 10}}).out(); });  // transB missing
  EXPECT_TRUE(has(e, "node 'n' (Gemm)") && has(e, "[4, 10]") && has(e, "[5, 10]")) << e;
  EXPECT_TRUE(has(error_of([] { OneNode("Gemm", {{4, 10}, {10, 5}, {4}}).out(); }), "C [4]"));
}

TEST(ShapeInference, MatMulBroadcastsBatchDimensions) {
  EXPECT_EQ(OneNode("MatMul", {{2, 3, 4, 5}, {5, 6}}).out(), (Shape{2, 3, 4, 6}));
  EXPECT_EQ(OneNode("MatMul", {{3, 1, 4, 5}, {2, 5, 7}}).out(), (Shape{3, 2, 4, 7}));
  EXPECT_EQ(OneNode("MatMul", {{4}, {4, 6}}).out(), (Shape{6}));
  EXPECT_EQ(OneNode("MatMul", {{2, 3, 4}, {4}}).out(), (Shape{2, 3}));
  EXPECT_EQ(OneNode("MatMul", {{4}, {4}}).out(), (Shape{}));
  std::string e = error_of([] { OneNode("MatMul", {{2, 3}, {4, 5}}).out(); });
  EXPECT_TRUE(has(e, "[2, 3]") && has(e, "[4, 5]")) << e;
  EXPECT_FALSE(error_of([] { OneNode("MatMul", {{2, 2, 3, 4}, {3, 4, 5}}).out(); }).empty());
}

TEST(ShapeInference, ElementwiseBroadcasting) {
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
    EXPECT_EQ(OneNode(op, {{2, 3, 4}, {3, 1}}).out(), (Shape{2, 3, 4})) << op;
    EXPECT_EQ(OneNode(op, {{1, 3, 1}, {5, 1, 1, 4}}).out(), (Shape{5, 1, 3, 4})) << op;
    EXPECT_EQ(OneNode(op, {{2, 3}, {}}).out(), (Shape{2, 3})) << op;
  }
  std::string e = error_of([] { OneNode("Add", {{1, 3}, {1, 4}}).out(); });
  EXPECT_TRUE(has(e, "shape inference: node 'n' (Add)")) << e;
  EXPECT_TRUE(has(e, "[1, 3]") && has(e, "[1, 4]")) << e;
  ir::Tensor i64(ir::DType::Int64, {3});
  EXPECT_TRUE(has(error_of([&] { OneNode("Mul", {{2, 3}}, {}, {{1, i64}}).out(); }), "int64"));
}

TEST(ShapeInference, ShapePreservingOps) {
  const Shape x{2, 3, 4, 5};
  for (const char* op : {"Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Identity", "Dropout",
                         "Softmax", "LogSoftmax", "Clip"})
    EXPECT_EQ(OneNode(op, {x}).out(), x) << op;
  EXPECT_EQ(OneNode("Clip", {x}, {}, {{1, ones({})}, {2, ones({})}}).out(), x);
  EXPECT_EQ(OneNode("PRelu", {x}, {}, {{1, ones({3, 1, 1})}}).out(), x);
  EXPECT_TRUE(has(error_of([&] { OneNode("PRelu", {x}, {}, {{1, ones({4})}}).out(); }), "slope [4]"));
  EXPECT_EQ(OneNode("Softmax", {x}, attrs({{"axis", int64_t{-4}}})).out(), x);
  EXPECT_TRUE(has(error_of([&] { OneNode("Softmax", {x}, attrs({{"axis", int64_t{4}}})).out(); }), "axis 4"));
  OneNode bn("BatchNormalization", {x}, {}, {{1, ones({3})}, {2, ones({3})}, {3, ones({3})}, {4, ones({3})}});
  EXPECT_EQ(bn.out(), x);
  OneNode bad("BatchNormalization", {x}, {}, {{1, ones({4})}, {2, ones({3})}, {3, ones({3})}, {4, ones({3})}});
  std::string e = error_of([&] { bad.out(); });
  EXPECT_TRUE(has(e, "scale [4]") && has(e, "[2, 3, 4, 5]")) << e;
  OneNode drop("Dropout", {x}, {}, {}, 2);
  EXPECT_EQ(ir::infer_shapes(drop.g).at("y1").dtype, ir::DType::Bool);
}

TEST(ShapeInference, ConcatFlattenTranspose) {
  EXPECT_EQ(OneNode("Concat", {{2, 3, 4}, {2, 5, 4}, {2, 1, 4}}, attrs({{"axis", int64_t{1}}})).out(), (Shape{2, 9, 4}));
  EXPECT_EQ(OneNode("Concat", {{2, 3, 4}, {2, 3, 1}}, attrs({{"axis", int64_t{-1}}})).out(), (Shape{2, 3, 5}));
  std::string e = error_of([] { OneNode("Concat", {{2, 3, 4}, {2, 5, 5}}, attrs({{"axis", int64_t{1}}})).out(); });
  EXPECT_TRUE(has(e, "[2, 3, 4]") && has(e, "[2, 5, 5]")) << e;
  EXPECT_TRUE(has(error_of([] { OneNode("Concat", {{2, 3}, {2, 3}}).out(); }), "axis"));

  const Shape x{2, 3, 4, 5};
  EXPECT_EQ(OneNode("Flatten", {x}).out(), (Shape{2, 60}));
  EXPECT_EQ(OneNode("Flatten", {x}, attrs({{"axis", int64_t{0}}})).out(), (Shape{1, 120}));
  EXPECT_EQ(OneNode("Flatten", {x}, attrs({{"axis", int64_t{4}}})).out(), (Shape{120, 1}));
  EXPECT_EQ(OneNode("Flatten", {x}, attrs({{"axis", int64_t{-1}}})).out(), (Shape{24, 5}));

  EXPECT_EQ(OneNode("Transpose", {x}).out(), (Shape{5, 4, 3, 2}));
  EXPECT_EQ(OneNode("Transpose", {x}, attrs({{"perm", Shape{0, 2, 3, 1}}})).out(), (Shape{2, 4, 5, 3}));
  EXPECT_TRUE(has(error_of([&] { OneNode("Transpose", {x}, attrs({{"perm", Shape{0, 1, 1, 2}}})).out(); }), "perm"));
}

TEST(ShapeInference, ReshapeZeroCopiesAndMinusOneInfers) {
  const Shape x{2, 3, 4, 5};
  auto reshape = [&](const Shape& spec, int64_t allowzero = 0) {
    return OneNode("Reshape", {x}, attrs({{"allowzero", allowzero}}),
                   {{1, ir::Tensor::int64s({static_cast<int64_t>(spec.size())}, spec)}})
        .out();
  };
  EXPECT_EQ(reshape({0, -1}), (Shape{2, 60}));
  EXPECT_EQ(reshape({0, 0, -1}), (Shape{2, 3, 20}));
  EXPECT_EQ(reshape({-1, 10}), (Shape{12, 10}));
  EXPECT_EQ(reshape({0, 3, 0, 5}), x);
  EXPECT_EQ(reshape({120}), (Shape{120}));
  EXPECT_TRUE(has(error_of([&] { reshape({-1, -1}); }), "more than one -1"));
  EXPECT_TRUE(has(error_of([&] { reshape({7, -1}); }), "cannot reshape"));
  EXPECT_TRUE(has(error_of([&] { reshape({2, 3, 4}); }), "cannot reshape"));
  EXPECT_TRUE(has(error_of([&] { reshape({0, -1}, 1); }), "cannot reshape"));  // allowzero: 0 is a real 0
  std::string e = error_of([&] { OneNode("Reshape", {x, {2}}).out(); });
  EXPECT_TRUE(has(e, "node 'n' (Reshape)") && has(e, "not an initializer")) << e;
}

TEST(ShapeInference, ErrorsNameTheNode) {
  ir::GraphBuilder b("g");
  std::string x = b.input("input", {-1, 3});
  x = b.node("Foo", {x}, {}, 1, "x")[0];
  b.output(x);
  ir::Graph g = b.finish();
  EXPECT_EQ(error_of([&] { ir::infer_shapes(g); }), "shape inference: node 'x' (Foo): unsupported op");

  ir::Graph missing;  // reads a value nobody provides (not a valid graph, but no crash)
  missing.nodes.push_back({"r", "Relu", {"nowhere"}, {"y"}, {}});
  std::string e = error_of([&] { ir::infer_shapes(missing); });
  EXPECT_TRUE(has(e, "node 'r' (Relu)") && has(e, "'nowhere'") && has(e, "no known shape")) << e;

  OneNode wrong_type("Flatten", {{2, 3}}, attrs({{"axis", std::string("one")}}));
  e = error_of([&] { wrong_type.out(); });
  EXPECT_TRUE(has(e, "node 'n' (Flatten)") && has(e, "axis")) << e;
  EXPECT_TRUE(has(error_of([] { OneNode("Relu", {{2}, {2}}).out(); }), "takes 1 inputs, got 2"));
}

TEST(ShapeInference, LayerCostsCountParamsAndMacs) {
  ir::GraphBuilder b("g");
  std::string x = b.input("input", {-1, 3, 8, 8});
  x = b.conv(x, 3, 8, 3, 2, 1, 1, false, "conv");  // -> [N, 8, 4, 4]
  x = b.batchnorm(x, 8, "bn");
  x = b.conv(x, 8, 8, 3, 1, 1, 8, true, "dw");     // depthwise
  x = b.flatten(b.global_avgpool(x));
  std::string w = b.add_initializer("mm.weight", ir::Tensor(ir::DType::Float32, {8, 6}));
  x = b.node("MatMul", {x, w}, {}, 1, "mm")[0];
  b.output(b.gemm(x, 6, 10, true, "fc"), "logits");
  ir::Graph g = b.finish();
  auto costs = ir::layer_costs(g, 2);
  ASSERT_EQ(costs.size(), g.nodes.size());
  std::map<std::string, ir::LayerCost> by;
  for (const auto& c : costs) by[c.node] = c;
  EXPECT_EQ(by.at("conv").op, "Conv");
  EXPECT_EQ(by.at("conv").out_shape, (Shape{2, 8, 4, 4}));
  EXPECT_EQ(by.at("conv").params, 8 * 3 * 9);
  EXPECT_EQ(by.at("conv").macs, 2 * 8 * 4 * 4 * 3 * 9);
  EXPECT_EQ(by.at("bn").params, 16);  // scale + bias; running stats are buffers
  EXPECT_EQ(by.at("bn").macs, 0);
  EXPECT_EQ(by.at("dw").params, 8 * 9 + 8);
  EXPECT_EQ(by.at("dw").macs, 2 * 8 * 4 * 4 * 1 * 9);
  EXPECT_EQ(by.at("mm").macs, 2 * 6 * 8);
  EXPECT_EQ(by.at("fc").out_shape, (Shape{2, 10}));
  EXPECT_EQ(by.at("fc").macs, 2 * 10 * 6);
  EXPECT_EQ(by.at("fc").params, 70);
  int64_t total = 0;
  for (const auto& c : costs) total += c.params;
  EXPECT_EQ(total, g.parameter_count());
}
