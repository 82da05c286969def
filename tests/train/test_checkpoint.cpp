#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "qforge/exec/graph_module.h"
#include "qforge/ir/builder.h"
#include "qforge/train/checkpoint.h"

using namespace qforge;
namespace fs = std::filesystem;

namespace {
ir::Graph net() {
  ir::GraphBuilder b("net", 1);
  std::string x = b.input("input", {-1, 1, 6, 6});
  x = b.relu(b.batchnorm(b.conv(x, 1, 2, 3, 1, 1, 1, false, "conv"), 2, "bn"));
  b.output(b.gemm(b.flatten(b.global_avgpool(x)), 2, 3, true, "fc"), "logits");
  return b.finish();
}
std::string tmpdir() {
  fs::path p = fs::temp_directory_path() / ("qf_ckpt_" + std::to_string(::getpid()));
  fs::create_directories(p);
  return p.string();
}
}  // namespace

TEST(Checkpoint, RoundTripsWeightsMetaAndOptimizer) {
  exec::GraphModule m(net());
  torch::optim::SGD opt(m.parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  m.train();
  m.forward(torch::randn({4, 1, 6, 6})).sum().backward();
  opt.step();
  train::CheckpointMeta meta;
  meta.epoch = 3;
  meta.step = 42;
  meta.best_top1 = 88.5;
  meta.recipe_yaml = "model: {zoo: x}\n";
  std::string path = tmpdir() + "/a.ckpt";
  train::save_checkpoint(path, m, &opt, meta);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  train::Checkpoint c = train::load_checkpoint(path);
  EXPECT_EQ(c.meta.epoch, 3);
  EXPECT_EQ(c.meta.step, 42);
  EXPECT_DOUBLE_EQ(c.meta.best_top1, 88.5);
  EXPECT_EQ(c.meta.recipe_yaml, meta.recipe_yaml);
  EXPECT_TRUE(c.has_optimizer);
  exec::GraphModule m2(c.graph);
  for (const auto& [name, t] : m.state()) EXPECT_TRUE(at::equal(t, m2.state().at(name))) << name;
  torch::optim::SGD opt2(m2.parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  train::load_optimizer_state(path, opt2);
  EXPECT_EQ(opt2.state().size(), opt.state().size());
}

TEST(Checkpoint, BadFilesNameThePath) {
  std::string dir = tmpdir();
  auto expect_error = [](const std::string& p, const std::string& what) {
    try {
      train::load_checkpoint(p);
      FAIL() << "no error for " << p;
    } catch (const train::CheckpointError& e) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expect_error(dir + "/missing.ckpt", "no such file");
  { std::ofstream(dir + "/junk.ckpt") << "this is not a zip archive"; }
  expect_error(dir + "/junk.ckpt", "not a readable checkpoint");
  // truncated: a real checkpoint cut in half
  exec::GraphModule m(net());
  train::save_checkpoint(dir + "/full.ckpt", m, nullptr, {});
  std::string bytes;
  {
    std::ifstream f(dir + "/full.ckpt", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  { std::ofstream(dir + "/half.ckpt", std::ios::binary) << bytes.substr(0, bytes.size() / 2); }
  expect_error(dir + "/half.ckpt", "checkpoint");
}
