// Shared helpers of the compression tests: a small residual network with BatchNorm, random uint8
// image sets and their loader, running a graph, relative error.
#pragma once
#include <torch/torch.h>

#include <string>

#include "qforge/compress/ptq.h"
#include "qforge/data/loader.h"
#include "qforge/exec/graph_module.h"
#include "qforge/exec/tensor_convert.h"
#include "qforge/ir/builder.h"

namespace qforge::compress_test {


// conv-bn-relu -> conv-bn (+ skip) -> relu -> global pool -> fc, with non-trivial BN statistics.
inline ir::Graph small_resnet() {
  ir::GraphBuilder b("small");
  std::string x = b.input("x", {2, 1, 12, 12});
  std::string h = b.relu(b.batchnorm(b.conv(x, 1, 8, 3, 1, 1, 1, false, "conv1"), 8, "bn1"), "relu1");
  std::string y = b.batchnorm(b.conv(h, 8, 8, 3, 1, 1, 1, false, "conv2"), 8, "bn2");
  y = b.relu(b.add(y, h, "add"), "relu2");
  y = b.gemm(b.flatten(b.global_avgpool(y, "gap"), "flat"), 8, 5, true, "fc");
  b.output(y, "logits");
  ir::Graph g = b.finish();
  torch::manual_seed(3);
  for (auto& [name, t] : g.initializers) {
    at::Tensor a = exec::to_aten(t);
    if (name.find("running_var") != std::string::npos) a = torch::rand(a.sizes()) + 0.5;
    else if (name.find("running_mean") != std::string::npos) a = torch::randn(a.sizes()) * 0.2;
    else if (name.find("bn") != std::string::npos) a = torch::rand(a.sizes()) + 0.5;
    else a = torch::randn(a.sizes()) * 0.4;
    t = exec::to_ir(a.contiguous());
  }
  return g;
}

inline data::Dataset random_images(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  data::Dataset d;
  d.images = torch::randint(0, 256, {n, 1, 12, 12}, torch::kUInt8);
  d.labels = torch::randint(0, 5, {n}, torch::kLong);
  d.num_classes = 5;
  d.name = "random";
  return d;
}

inline data::LoaderOptions plain(int64_t batch) {
  data::LoaderOptions o;
  o.batch_size = batch;
  o.workers = 0;
  o.transforms.mean = {0.5};
  o.transforms.std = {0.25};
  return o;
}

inline at::Tensor images_of(const data::Dataset& d) {
  data::DataLoader l(d, plain(d.size()));
  l.start_epoch(0);
  data::Batch b;
  l.next(b);
  return b.images;
}

inline at::Tensor run(const ir::Graph& g, const at::Tensor& x) {
  exec::GraphModule m(g);
  m.eval();
  at::NoGradGuard ng;
  return m.forward(x);
}

inline double rel_err(const at::Tensor& a, const at::Tensor& b) { return ((a - b).norm() / b.norm()).item<double>(); }

inline compress::PtqOptions quiet_options() {
  compress::PtqOptions o;
  o.quiet = true;
  return o;
}

inline int count_op(const ir::Graph& g, const std::string& op) {
  int n = 0;
  for (const auto& node : g.nodes) n += node.op == op;
  return n;
}

}  // namespace qforge::compress_test
