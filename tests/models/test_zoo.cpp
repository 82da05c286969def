// Zoo networks build, validate, infer the right logits shape and have the published parameter and
// MAC counts. Static checks only (ir::infer_shapes), no libtorch.
#include <gtest/gtest.h>

#include <stdexcept>

#include "qforge/ir/shape_inference.h"
#include "qforge/models/zoo.h"

using namespace qforge;

namespace {
models::ZooOptions opts(int64_t in_ch, int64_t size, int64_t classes = 10, double width = 1.0) {
  models::ZooOptions o;
  o.in_channels = in_ch;
  o.image_size = size;
  o.num_classes = classes;
  o.width = width;
  return o;
}

int64_t params(const std::string& name, int64_t classes, int64_t in_ch, int64_t size, double width = 1.0) {
  return models::build_model(name, opts(in_ch, size, classes, width)).parameter_count();
}

// The value a node produces (the builder gives values names of their own).
std::string output_of(ir::Graph& g, const std::string& node) {
  const ir::Node* n = g.find_node(node);
  if (!n) throw std::runtime_error("no node " + node);
  return n->outputs.at(0);
}

int64_t total_macs(const ir::Graph& g) {
  int64_t m = 0;
  for (const ir::LayerCost& c : ir::layer_costs(g)) m += c.macs;
  return m;
}
}  // namespace

TEST(Zoo, NamesAreTheDocumentedOnes) {
  EXPECT_EQ(models::zoo_names(), (std::vector<std::string>{"lenet5", "mobilenet_v2", "preact_resnet20", "resnet18",
                                                           "resnet20", "resnet32", "resnet56", "vgg_small"}));
}

TEST(Zoo, EveryModelInfersLogitsForFashionMnistAndCifarShapes) {
  for (const std::string& name : models::zoo_names()) {
    for (auto [ch, size] : {std::pair<int64_t, int64_t>{1, 28}, {3, 32}}) {
      SCOPED_TRACE(name + " @" + std::to_string(size));
      ir::Graph g = models::build_model(name, opts(ch, size, 7));
      EXPECT_NO_THROW(g.validate());
      ASSERT_EQ(g.inputs.size(), 1u);
      EXPECT_EQ(g.inputs[0].name, "input");
      EXPECT_EQ(g.inputs[0].shape, (std::vector<int64_t>{-1, ch, size, size}));
      ASSERT_EQ(g.outputs.size(), 1u);
      EXPECT_EQ(g.outputs[0].name, "logits");
      auto v = ir::infer_shapes(g, 3);
      EXPECT_EQ(v.at("logits").shape, (std::vector<int64_t>{3, 7}));
      // Per-layer params add up to the graph's count (each parameter read by exactly one node).
      int64_t p = 0;
      for (const ir::LayerCost& c : ir::layer_costs(g)) p += c.params;
      EXPECT_EQ(p, g.parameter_count());
    }
  }
}

TEST(Zoo, ImageNetSizedModelsInferAt224) {
  for (const char* name : {"resnet18", "mobilenet_v2"}) {
    ir::Graph g = models::build_model(name, opts(3, 224, 1000));
    EXPECT_EQ(ir::infer_shapes(g, 2).at("logits").shape, (std::vector<int64_t>{2, 1000})) << name;
  }
  // At 224 the stem and the first stride-2 stage downsample: 7x7 before the classifier.
  ir::Graph r = models::build_model("resnet18", opts(3, 224, 1000));
  EXPECT_EQ(ir::infer_shapes(r).at(output_of(r, "layer4.1.relu2")).shape, (std::vector<int64_t>{1, 512, 7, 7}));
  ir::Graph m = models::build_model("mobilenet_v2", opts(3, 224, 1000));
  EXPECT_EQ(ir::infer_shapes(m).at(output_of(m, "features.18.2")).shape, (std::vector<int64_t>{1, 1280, 7, 7}));
  // Small inputs keep the stem and first stride-2 stage at stride 1: 32 -> 4, not 1.
  ir::Graph ms = models::build_model("mobilenet_v2", opts(3, 32));
  EXPECT_EQ(ir::infer_shapes(ms).at(output_of(ms, "features.18.2")).shape, (std::vector<int64_t>{1, 1280, 4, 4}));
}

TEST(Zoo, PublishedParameterCounts) {
  EXPECT_EQ(params("resnet18", 1000, 3, 224), 11689512);     // torchvision resnet18
  EXPECT_EQ(params("mobilenet_v2", 1000, 3, 224), 3504872);  // torchvision mobilenet_v2
  EXPECT_EQ(params("mobilenet_v2", 1000, 3, 32), 3504872);   // the small-input stride change has no weights
  // CIFAR ResNets with option-B (1x1 conv + BN projection) shortcuts. Option A (no shortcut weights)
  // gives the published 269,722 / 464,154 / 853,018; the two projections add 16*32 + 32*64 weights
  // and 2*(32 + 64) BN parameters = 2,752.
  EXPECT_EQ(params("resnet20", 10, 3, 32), 269722 + 2752);
  EXPECT_EQ(params("resnet20", 10, 3, 32), 272474);
  EXPECT_EQ(params("resnet32", 10, 3, 32), 464154 + 2752);
  EXPECT_EQ(params("resnet56", 10, 3, 32), 853018 + 2752);
  EXPECT_EQ(params("resnet20", 10, 1, 28), 272474 - 16 * 9 * 2);  // 1 input channel instead of 3
  // Pre-activation: no stem BN, BN before each conv (bn1 sees the block input), projection without
  // BN, a final BN: 272,474 - 32 - 192 - (32 + 64) + 128 - ... computed layer by layer = 272,282.
  EXPECT_EQ(params("preact_resnet20", 10, 3, 32), 272282);
  EXPECT_EQ(params("lenet5", 10, 1, 28), 61706);  // classic LeNet-5 (16x5x5 features)
  // VGG-Small: convs 4,574,592 + BN 3,584 + classifier 8192*10 + 10.
  EXPECT_EQ(params("vgg_small", 10, 3, 32), 4660106);
}

TEST(Zoo, ResNet18MacsMatchTorchvision) {
  ir::Graph g = models::build_model("resnet18", opts(3, 224, 1000));
  const int64_t macs = total_macs(g);
  EXPECT_EQ(macs, 1814073344);  // convs + fc; torchvision / ptflops report 1.82 GMACs (with BN etc.)
  EXPECT_NEAR(static_cast<double>(macs), 1.814e9, 0.001e9);
  // Batch scales MACs linearly.
  int64_t m4 = 0;
  for (const ir::LayerCost& c : ir::layer_costs(g, 4)) m4 += c.macs;
  EXPECT_EQ(m4, 4 * macs);
}

TEST(Zoo, WidthScalesChannels) {
  for (const std::string& name : models::zoo_names()) {
    ir::Graph half = models::build_model(name, opts(3, 32, 10, 0.5));
    EXPECT_LT(half.parameter_count(), params(name, 10, 3, 32)) << name;
    EXPECT_EQ(ir::infer_shapes(half).at("logits").shape, (std::vector<int64_t>{1, 10})) << name;
  }
  EXPECT_GT(params("resnet20", 10, 3, 32, 2.0), 4 * 272474 * 9 / 10);  // ~4x: params grow with width^2
  EXPECT_LT(params("resnet20", 10, 3, 32, 0.5), 272474 / 3);
  EXPECT_EQ(models::build_model("resnet20", opts(3, 32, 10, 0.5)).initializers.at("conv1.weight").shape,
            (std::vector<int64_t>{8, 3, 3, 3}));
  // A tiny width still leaves at least one channel.
  ir::Graph tiny = models::build_model("resnet20", opts(3, 32, 10, 0.01));
  EXPECT_EQ(tiny.initializers.at("conv1.weight").shape[0], 1);
  EXPECT_EQ(ir::infer_shapes(tiny).at("logits").shape, (std::vector<int64_t>{1, 10}));
  // MobileNetV2 rounds channels to multiples of 8.
  ir::Graph mb = models::build_model("mobilenet_v2", opts(3, 32, 10, 0.35));
  EXPECT_EQ(mb.initializers.at("features.0.0.weight").shape[0], 16);
}

TEST(Zoo, PyTorchParameterNames) {
  ir::Graph r = models::build_model("resnet20", {});
  for (const char* p : {"conv1.weight", "bn1.weight", "bn1.bias", "layer1.0.conv1.weight", "layer1.0.bn1.running_mean",
                        "layer1.0.bn1.running_var", "layer2.0.downsample.0.weight", "layer2.0.downsample.1.weight",
                        "layer3.2.conv2.weight", "fc.weight", "fc.bias"})
    EXPECT_TRUE(r.is_initializer(p)) << p;
  EXPECT_TRUE(r.buffers.count("layer1.0.bn1.running_mean"));
  EXPECT_FALSE(r.buffers.count("layer1.0.bn1.weight"));
  EXPECT_FALSE(r.is_initializer("layer1.0.downsample.0.weight"));  // identity shortcut where shapes match
  ir::Graph r18 = models::build_model("resnet18", opts(3, 224, 1000));
  for (const char* p : {"conv1.weight", "layer1.0.conv1.weight", "layer4.1.bn2.running_var", "layer2.0.downsample.0.weight", "fc.weight"})
    EXPECT_TRUE(r18.is_initializer(p)) << p;
  ir::Graph mb = models::build_model("mobilenet_v2", {});
  for (const char* p : {"features.0.0.weight", "features.0.1.running_mean", "features.1.conv.0.0.weight",
                        "features.1.conv.1.weight", "features.2.conv.3.running_var", "features.18.0.weight",
                        "classifier.1.weight"})
    EXPECT_TRUE(mb.is_initializer(p)) << p;
}

TEST(Zoo, UnknownNameListsKnownOnes) {
  try {
    models::build_model("resnet21", {});
    FAIL();
  } catch (const std::invalid_argument& e) {
    std::string m = e.what();
    for (const std::string& n : models::zoo_names()) EXPECT_NE(m.find(n), std::string::npos) << n;
  }
  EXPECT_THROW(models::build_model("resnet20", opts(0, 32)), std::invalid_argument);
  EXPECT_THROW(models::build_model("lenet5", opts(1, 8)), std::invalid_argument);
}

TEST(Zoo, SameSeedSameWeights) {
  models::ZooOptions o;
  ir::Graph a = models::build_model("resnet20", o), b = models::build_model("resnet20", o);
  EXPECT_EQ(a.initializers.at("layer2.0.conv1.weight").bytes, b.initializers.at("layer2.0.conv1.weight").bytes);
  o.seed = 1;
  EXPECT_NE(models::build_model("resnet20", o).initializers.at("layer2.0.conv1.weight").bytes,
            a.initializers.at("layer2.0.conv1.weight").bytes);
}
