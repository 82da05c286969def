// Every zoo network runs forward on the executor and gives finite logits of the right shape.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qforge/exec/graph_module.h"
#include "qforge/models/zoo.h"

using namespace qforge;

TEST(ZooForward, EveryModelRunsOnFashionMnistAndCifarShapes) {
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
