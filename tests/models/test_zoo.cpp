// Zoo networks build, run and have the published parameter counts.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qforge/exec/graph_module.h"
#include "qforge/models/zoo.h"

using namespace qforge;

namespace {
int64_t params(const std::string& name, int64_t classes, int64_t in_ch, int64_t size, double width = 1.0) {
  models::ZooOptions o;
  o.num_classes = classes;
  o.in_channels = in_ch;
  o.image_size = size;
  o.width = width;
  return models::build_model(name, o).parameter_count();
}
}  // namespace

TEST(Zoo, EveryModelRunsOnFashionMnistAndCifarShapes) {
  for (const std::string& name : models::zoo_names()) {
    for (auto [ch, size] : {std::pair<int64_t, int64_t>{1, 28}, {3, 32}}) {
      models::ZooOptions o;
      o.in_channels = ch;
      o.image_size = size;
      o.num_classes = 7;
      exec::GraphModule m(models::build_model(name, o));
      m.eval();
      at::Tensor y = m.forward(torch::randn({2, ch, size, size}));
      EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 7})) << name << " @" << size;
      EXPECT_TRUE(y.isfinite().all().item<bool>()) << name;
    }
  }
}

TEST(Zoo, PublishedParameterCounts) {
  EXPECT_EQ(params("resnet18", 1000, 3, 224), 11689512);     // torchvision resnet18
  EXPECT_EQ(params("mobilenet_v2", 1000, 3, 224), 3504872);  // torchvision mobilenet_v2
  // ResNet-20 with projection shortcuts: 0.27M (He et al. report 0.27M for option A, which has no
  // shortcut weights; the two 1x1 projections + BN add 16*32 + 32*64 + 2*(32+64)*2 = 2,944).
  EXPECT_EQ(params("resnet20", 10, 3, 32), 272474);
  EXPECT_EQ(params("resnet20", 10, 1, 28), 272474 - 16 * 9 * 2);
  EXPECT_EQ(params("lenet5", 10, 1, 28), 61706);  // classic LeNet-5 count
  EXPECT_LT(params("resnet20", 10, 3, 32, 0.5), 272474 / 3);
  EXPECT_GT(params("resnet56", 10, 3, 32), 850000);
}

TEST(Zoo, UnknownNameListsKnownOnes) {
  try {
    models::build_model("resnet21", {});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("resnet20"), std::string::npos);
  }
}

TEST(Zoo, SameSeedSameWeights) {
  models::ZooOptions o;
  ir::Graph a = models::build_model("resnet20", o), b = models::build_model("resnet20", o);
  EXPECT_EQ(a.initializers.at("layer2.0.conv1.weight").bytes, b.initializers.at("layer2.0.conv1.weight").bytes);
  o.seed = 1;
  EXPECT_NE(models::build_model("resnet20", o).initializers.at("layer2.0.conv1.weight").bytes,
            a.initializers.at("layer2.0.conv1.weight").bytes);
}
