// The quantization pass and the FakeQuant op, with a test-only method so the placement logic is
// checked independently of any real method.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qforge/exec/graph_module.h"
#include "qforge/models/zoo.h"
#include "qforge/quant/config.h"
#include "qforge/quant/fake_quant_node.h"
#include "qforge/quant/insert.h"

using namespace qforge;
using ::testing::HasSubstr;

namespace {
// Rounds to a grid of step `scale`; counts initializations. Weights and activations, 2..8 bits.
struct RoundMethod : quant::QuantMethod {
  std::string name() const override { return "test_round"; }
  bool supports(quant::Role) const override { return true; }
  std::map<std::string, double> default_options() const override { return {{"step", 0.5}}; }
  std::vector<quant::ParamSpec> params(const quant::QuantizerConfig& c, quant::Role,
                                       const std::vector<int64_t>&) const override {
    return {{"scale", ir::Tensor::floats({}, {static_cast<float>(c.options.at("step"))}), true}};
  }
  void initialize(const at::Tensor& x, const quant::QuantizerConfig&, quant::Role, std::vector<at::Tensor>& p) const override {
    p[0].fill_(x.abs().max().item<float>() / 4);
  }
  at::Tensor forward(const at::Tensor& x, const quant::QuantizerConfig&, quant::Role, std::vector<at::Tensor>& p,
                     bool) const override {
    return (x / p[0]).round() * p[0];
  }
};

quant::QuantizeConfig config(const std::string& yaml) {
  quant::register_quantization();
  static bool once = [] {
    quant::register_method(std::make_shared<RoundMethod>());
    return true;
  }();
  (void)once;
  return quant::parse_quantize(YAML::Load(yaml));
}

ir::Graph resnet20() {
  models::ZooOptions o;
  o.in_channels = 1;
  o.image_size = 28;
  return models::build_model("resnet20", o);
}

void expect_error(const std::function<void()>& f, const std::string& key, const std::string& what) {
  try {
    f();
    FAIL() << "no error; expected " << key;
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr(key));
    EXPECT_THAT(e.what(), HasSubstr(what));
  }
}
}  // namespace

TEST(QuantInsert, KeepsFirstAndLastFloatAndQuantizesTheRest) {
  ir::Graph g = resnet20();
  auto layers = quant::insert_fake_quant(g, config("{weights: {method: test_round, bits: 4}, activations: {method: test_round, bits: 4}}"));
  ASSERT_EQ(layers.size(), 22u);  // 19 convs + 2 projections + fc
  EXPECT_EQ(layers.front().layer, "conv1");
  EXPECT_EQ(layers.front().weight_bits, 0);
  EXPECT_EQ(layers.back().layer, "fc");
  EXPECT_EQ(layers.back().activation_bits, 0);
  EXPECT_EQ(layers[1].weight_bits, 4);
  EXPECT_EQ(layers[1].activation_bits, 4);
  const ir::Node* aq = g.producer(g.find_node("layer1.0.conv1")->inputs[0]);
  ASSERT_NE(aq, nullptr);
  EXPECT_EQ(aq->op, "FakeQuant");
  EXPECT_EQ(aq->attrs.i("signed"), 0);  // after a ReLU
  EXPECT_EQ(g.find_node("layer1.0.conv1.wq")->attrs.i("signed"), 1);
  EXPECT_FALSE(g.buffers.count("layer1.0.conv1.wq.scale"));      // trainable
  EXPECT_TRUE(g.buffers.count("layer1.0.conv1.wq.initialized"));  // state

  exec::GraphModule m(g);
  m.train();
  at::Tensor y = m.forward(torch::randn({2, 1, 28, 28}));
  y.sum().backward();
  EXPECT_EQ(m.state().at("layer1.0.conv1.wq.initialized").item<float>(), 1.f);
  EXPECT_TRUE(m.state().at("layer1.0.conv1.weight").grad().defined());
}

TEST(QuantInsert, FirstLastBitsAndOverrides) {
  ir::Graph g = resnet20();
  auto layers = quant::insert_fake_quant(
      g, config("{weights: {method: test_round, bits: 4}, first_last_bits: 8,"
                " overrides: [{match: 'layer3\\..*', weights: {bits: 2}}, {match: 'layer2\\.0\\.conv1', enable: false}]}"));
  EXPECT_EQ(layers.front().weight_bits, 8);
  EXPECT_EQ(layers.back().weight_bits, 8);
  for (const auto& l : layers) {
    if (l.layer.rfind("layer3.", 0) == 0) EXPECT_EQ(l.weight_bits, 2) << l.layer;
    if (l.layer == "layer2.0.conv1") EXPECT_EQ(l.weight_bits, 0);
    if (l.layer.rfind("layer1.", 0) == 0) EXPECT_EQ(l.weight_bits, 4) << l.layer;  // first's 8 must not leak
    EXPECT_EQ(l.activation_bits, 0);
  }
}

TEST(QuantInsert, FirstLastFallBackToUniformWhereTheMethodCannot) {
  quant::register_quantization();
  ir::Graph g = resnet20();
  auto layers = quant::insert_fake_quant(
      g, config("{weights: {method: bwn, bits: 1}, activations: {method: hwgq, bits: 2}, first_last_bits: 8}"));
  auto method_of = [&](const std::string& node) { return g.find_node(node)->attrs.s("method", ""); };
  EXPECT_EQ(method_of(layers.front().weight_quantizer), "uniform");      // bwn has no 8-bit form
  EXPECT_EQ(method_of(layers.front().activation_quantizer), "uniform");  // hwgq: the image is signed
  EXPECT_EQ(layers.front().weight_bits, 8);
  EXPECT_EQ(method_of(layers[1].weight_quantizer), "bwn");
  EXPECT_EQ(layers[1].weight_bits, 1);
  EXPECT_EQ(method_of(layers[1].activation_quantizer), "hwgq");
  EXPECT_EQ(method_of(layers.back().activation_quantizer), "uniform");  // an 8-bit HWGQ codebook is no int8 grid
  EXPECT_EQ(layers.back().activation_bits, 8);
  // Codebook and power-of-two weights: the first / last layers are plain 8-bit, the rest keep the method.
  for (const char* m : {"pow2", "lqnet"}) {
    ir::Graph h = resnet20();
    auto l = quant::insert_fake_quant(h, config(std::string("{weights: {method: ") + m + ", bits: 3}, first_last_bits: 8}"));
    EXPECT_EQ(h.find_node(l.front().weight_quantizer)->attrs.s("method", ""), "uniform") << m;
    EXPECT_EQ(h.find_node(l.back().weight_quantizer)->attrs.s("method", ""), "uniform") << m;
    EXPECT_EQ(h.find_node(l[1].weight_quantizer)->attrs.s("method", ""), m);
  }
  ir::Graph u = resnet20();  // HWGQ with uniform levels is an integer grid: it stays
  auto lu = quant::insert_fake_quant(u, config("{activations: {method: hwgq, bits: 2, uniform: 1}, first_last_bits: 8}"));
  EXPECT_EQ(u.find_node(lu.back().activation_quantizer)->attrs.s("method", ""), "hwgq");
}

// quantize.adds: both inputs and the (post-ReLU) output of every residual Add are quantized, and a layer
// reading such a value shares its quantizer instead of adding its own.
TEST(QuantInsert, AddsGetQuantizersThatTheirReadersShare) {
  ir::Graph g = resnet20();
  auto layers = quant::insert_fake_quant(
      g, config("{weights: {method: test_round, bits: 4}, activations: {method: test_round, bits: 4}, adds: true}"));
  auto fake_quant = [&](const std::string& v) {
    const ir::Node* p = g.producer(v);
    return p && p->op == "FakeQuant" ? p : nullptr;
  };
  int adds = 0;
  for (const ir::Node& n : g.nodes) {
    if (n.op != "Add") continue;
    ++adds;
    EXPECT_NE(fake_quant(n.inputs[0]), nullptr) << n.name;
    EXPECT_NE(fake_quant(n.inputs[1]), nullptr) << n.name;
    for (const ir::Node* r : g.consumers(n.outputs[0])) {
      ASSERT_EQ(r->op, "Relu") << n.name;
      for (const ir::Node* c : g.consumers(r->outputs[0])) EXPECT_EQ(c->op, "FakeQuant") << n.name << " -> " << c->name;
    }
  }
  EXPECT_EQ(adds, 9);
  // layer1.1 reads layer1.0's quantized output: through one shared quantizer, unsigned (after the ReLU).
  const ir::Node* in = fake_quant(g.find_node("layer1.1.conv1")->inputs[0]);
  ASSERT_NE(in, nullptr);
  EXPECT_EQ(in->attrs.i("signed"), 0);
  EXPECT_EQ(g.find_node("layer1.1.conv1.aq"), nullptr);
  EXPECT_EQ(fake_quant(g.find_node("layer1.2.conv1")->inputs[0])->name, fake_quant(g.find_node("layer1.2.add")->inputs[1])->name);
  for (const auto& l : layers)
    if (l.layer == "layer1.1.conv1") {
      EXPECT_EQ(l.activation_quantizer, in->name);
      EXPECT_EQ(l.activation_bits, 4);
    }
  exec::GraphModule m(g);
  m.eval();
  EXPECT_EQ(m.forward(torch::randn({2, 1, 28, 28})).sizes(), (std::vector<int64_t>{2, 10}));
  expect_error([&] { config("{weights: {method: test_round}, adds: true}"); }, "quantize.adds", "activations");
}

TEST(QuantInsert, ConfigurationErrorsNameTheKey) {
  ir::Graph g = resnet20();
  expect_error([&] { quant::insert_fake_quant(g, config("{weights: {method: nope, bits: 4}}")); }, "quantize.weights.method",
               "unknown quantization method");
  expect_error([&] { quant::insert_fake_quant(g, config("{weights: {method: test_round, bits: 12}}")); },
               "quantize.weights.bits", "outside");
  expect_error([&] { quant::insert_fake_quant(g, config("{weights: {method: test_round, bitz: 4}}")); },
               "quantize.weights.bitz", "unknown key");
  expect_error([&] { config("{weights: {method: test_round}, overrides: [{match: '('}]}"); }, "quantize.overrides[0].match",
               "invalid regular expression");
  expect_error([&] { quant::insert_fake_quant(g, config("{weights: {method: test_round}, overrides: [{match: 'layer9.*'}]}")); },
               "quantize.overrides[0].match", "matches no layer");
  expect_error([&] { config("{activation: {method: test_round}}"); }, "quantize.activation", "unknown key");
  ir::Graph q = g;
  quant::insert_fake_quant(q, config("{weights: {method: test_round}}"));
  expect_error([&] { quant::insert_fake_quant(q, config("{weights: {method: test_round}}")); }, "already quantized", "");
}
