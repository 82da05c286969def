// The float Conv (layers a model keeps in float) adds each output's terms in (c, i, j) order along
// output rows; it must give the very floats a direct per-output sum gives, for any stride, dilation,
// asymmetric padding and group count.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "graph/model.h"
#include "onnx_builder.h"

using namespace qfrt;
using qfrt_test::OnnxBuilder;

TEST(FloatConv, RowOrderedSumsEqualTheDirectSumBitForBit) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  struct Case {
    int64_t C, H, W, M, group, k, s, dil, pt, pl, pb, pr;
  };
  for (const Case& c : {Case{3, 11, 9, 4, 1, 3, 1, 1, 1, 1, 1, 1}, Case{4, 10, 13, 6, 2, 3, 2, 1, 0, 2, 1, 0},
                        Case{2, 12, 12, 2, 2, 5, 3, 2, 2, 3, 0, 1}, Case{1, 7, 5, 3, 1, 1, 1, 1, 0, 0, 0, 0},
                        // ungrouped: the im2col + AVX-512 GEMM path; 7 channels (a 4-row tile and a 3-row one),
                        // 380 and 1 outputs per plane (masked column tails), batch 1 (channel blocks in parallel)
                        Case{5, 20, 19, 7, 1, 3, 1, 1, 1, 1, 1, 1}, Case{3, 4, 4, 6, 1, 4, 2, 1, 0, 0, 0, 0},
                        Case{2, 9, 9, 5, 1, 3, 2, 2, 1, 0, 2, 1}}) {
    OnnxBuilder b;
    const int64_t N = c.C == 5 ? 1 : 2;
    b.input("x", {N, c.C, c.H, c.W});
    std::vector<float> w(static_cast<size_t>(c.M * (c.C / c.group) * c.k * c.k)), bias(static_cast<size_t>(c.M));
    for (auto& v : w) v = d(rng);
    for (auto& v : bias) v = d(rng);
    b.floats("w", {c.M, c.C / c.group, c.k, c.k}, w);
    b.floats("b", {c.M}, bias);
    auto* n = b.node("Conv", {"x", "w", "b"}, {"y"}, "conv");
    OnnxBuilder::attr(n, "strides", std::vector<int64_t>{c.s, c.s});
    OnnxBuilder::attr(n, "dilations", std::vector<int64_t>{c.dil, c.dil});
    OnnxBuilder::attr(n, "pads", std::vector<int64_t>{c.pt, c.pl, c.pb, c.pr});
    OnnxBuilder::attr(n, "group", c.group);
    b.output("y");
    const std::string path = (std::filesystem::temp_directory_path() / "qforge_rt_float_conv.onnx").string();
    b.save(path);
    Tensor x(DType::F32, {N, c.C, c.H, c.W});
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = d(rng);
    const Tensor y = Model(path).run({x})[0];
    const int64_t OH = (c.H + c.pt + c.pb - c.dil * (c.k - 1) - 1) / c.s + 1, OW = (c.W + c.pl + c.pr - c.dil * (c.k - 1) - 1) / c.s + 1;
    ASSERT_EQ(y.shape, (Shape{N, c.M, OH, OW}));
    const int64_t Cg = c.C / c.group, Mg = c.M / c.group;
    for (int64_t im = 0; im < N; ++im)
      for (int64_t m = 0; m < c.M; ++m)
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OW; ++ow) {
            float acc = bias[static_cast<size_t>(m)];
            for (int64_t ci = 0; ci < Cg; ++ci)
              for (int64_t i = 0; i < c.k; ++i)
                for (int64_t j = 0; j < c.k; ++j) {
                  const int64_t ih = oh * c.s - c.pt + i * c.dil, iw = ow * c.s - c.pl + j * c.dil;
                  if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
                  acc += x.data<float>()[((im * c.C + (m / Mg) * Cg + ci) * c.H + ih) * c.W + iw] *
                         w[static_cast<size_t>(((m * Cg + ci) * c.k + i) * c.k + j)];
                }
            ASSERT_EQ(acc, y.data<float>()[((im * c.M + m) * OH + oh) * OW + ow]) << "case C=" << c.C << " m=" << m << " oh=" << oh << " ow=" << ow;
          }
  }
}
