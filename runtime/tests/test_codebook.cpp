// Codebook quantization (qforge's ai.qforge CodebookQuantize / CodebookDequantize, the form lqnet and
// hwgq models take): rounding at the boundaries, per-channel levels, index packing at 1/2/4 bits, and
// a codebook model that runs the same from its ONNX file and its .qfp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

#include "core/error.h"
#include "graph/codebook.h"
#include "graph/model.h"
#include "pack/inspect.h"
#include "pack/qfp.h"
#include "pack/widths.h"
#include "onnx_builder.h"
#include "test_util.h"

using namespace qfrt;
namespace fs = std::filesystem;
using qfrt_test::OnnxBuilder;

namespace {
Node node(const std::string& op) {
  Node n;
  n.name = "cb";
  n.op = op;
  return n;
}
Tensor floats(Shape s, std::vector<float> v) {
  Tensor t(DType::F32, std::move(s));
  std::copy(v.begin(), v.end(), t.data<float>());
  return t;
}
std::string tmp(const std::string& name) { return (fs::temp_directory_path() / ("qforge_rt_codebook_" + name)).string(); }
}  // namespace

TEST(Codebook, QuantizeCountsBoundariesBelowAndTiesGoDown) {
  const Node n = node("qf.CodebookQuantize");
  // HWGQ-like: boundary 0 (x <= 0 -> level 0), then midpoints.
  const Tensor thr = floats({3}, {0.f, 0.75f, 1.5f});
  const Tensor x = floats({8}, {-1.f, 0.f, 1e-7f, 0.75f, 0.7500001f, 1.5f, 9.f, NAN});
  const Tensor y = codebook_quantize(n, x, thr);
  const uint8_t want[] = {0, 0, 1, 1, 2, 2, 3, 0};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(y.data<uint8_t>()[i], want[i]) << "x = " << x.data<float>()[i];
  // Above 16 boundaries the search is binary; it must agree with the count.
  std::vector<float> t(255);
  for (int k = 0; k < 255; ++k) t[static_cast<size_t>(k)] = -3.f + 0.025f * static_cast<float>(k);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(-4.f, 4.f);
  Tensor xs(DType::F32, {4096});
  for (int64_t i = 0; i < xs.numel(); ++i) xs.data<float>()[i] = i % 7 ? d(rng) : t[static_cast<size_t>(i % 255)];
  const Tensor ys = codebook_quantize(n, xs, floats({255}, t));
  for (int64_t i = 0; i < xs.numel(); ++i) {
    int cnt = 0;
    for (float b : t) cnt += b < xs.data<float>()[i];
    ASSERT_EQ(ys.data<uint8_t>()[i], cnt) << i;
  }
  EXPECT_THROW(codebook_quantize(n, x, floats({2}, {1.f, 0.f})), Error);  // not ascending
}

// The AVX-512 count (up to 15 thresholds) gives the scalar count's bytes: ties, NaN, infinities, tails.
TEST(Codebook, VectorCountEqualsTheScalarCount) {
  std::mt19937 rng(12);
  std::normal_distribution<float> d(0.f, 1.f);
  for (int64_t T : {1, 3, 15, 16}) {
    std::vector<float> th;
    for (int64_t k = 0; k < T; ++k) th.push_back(-1.5f + 3.f * static_cast<float>(k) / static_cast<float>(T));
    Tensor x(DType::F32, {3 * 16384 + 37});
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = d(rng);
    for (int64_t k = 0; k < T; ++k) x.data<float>()[k] = th[static_cast<size_t>(k)];  // exactly on a boundary
    x.data<float>()[T] = std::nanf(""), x.data<float>()[T + 1] = INFINITY, x.data<float>()[T + 2] = -INFINITY;
    Tensor lut(DType::S8, {T + 1});
    for (int64_t k = 0; k <= T; ++k) lut.data<int8_t>()[k] = static_cast<int8_t>(2 * k - T);
    Node n = node("qf.CodebookQuantize");
    const Tensor thr = floats({T}, th);
    Tensor ref_idx, ref_lut;
    {
      qfrt_test::IsaScope scalar(Isa::Scalar);
      ref_idx = codebook_quantize(n, x, thr), ref_lut = codebook_quantize(n, x, thr, &lut);
    }
    for (Isa isa : qfrt_test::simd_isas()) {
      qfrt_test::IsaScope scope(isa);
      EXPECT_EQ(ref_idx.bytes, codebook_quantize(n, x, thr).bytes) << "T=" << T << " " << isa_name(isa);
      EXPECT_EQ(ref_lut.bytes, codebook_quantize(n, x, thr, &lut).bytes) << "T=" << T << " " << isa_name(isa);
    }
    EXPECT_EQ(ref_idx.data<uint8_t>()[0], 0);  // on the first boundary: the lower level
    EXPECT_EQ(ref_idx.data<uint8_t>()[T], 0);  // NaN
    EXPECT_EQ(ref_idx.data<uint8_t>()[T + 1], T);
  }
}

TEST(Codebook, DequantizePerTensorAndPerChannelAndRejectsABadIndex) {
  Node n = node("qf.CodebookDequantize");
  Tensor idx(DType::U8, {2, 3});
  const uint8_t v[] = {0, 1, 2, 2, 1, 0};
  std::copy(v, v + 6, idx.data<uint8_t>());
  const Tensor a = codebook_dequantize(n, idx, floats({3}, {-1.f, 0.5f, 4.f}));
  const float wa[] = {-1.f, 0.5f, 4.f, 4.f, 0.5f, -1.f};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(a.data<float>()[i], wa[i]);
  const Tensor rows = floats({2, 3}, {-1.f, 0.f, 1.f, -10.f, 0.f, 10.f});
  const Tensor b = codebook_dequantize(n, idx, rows);  // axis 0: row per first-axis entry
  const float wb[] = {-1.f, 0.f, 1.f, 10.f, 0.f, -10.f};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(b.data<float>()[i], wb[i]);
  n.attrs["axis"].kind = Attr::Int;
  n.attrs["axis"].i = 1;
  const Tensor cols = floats({3, 3}, {1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f, 8.f, 9.f});
  const Tensor c = codebook_dequantize(n, idx, cols);  // axis 1: row per column
  const float wc[] = {1.f, 5.f, 9.f, 3.f, 5.f, 7.f};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(c.data<float>()[i], wc[i]);
  EXPECT_THROW(codebook_dequantize(n, idx, rows), Error);  // 2 rows against axis 1 of size 3
  idx.data<uint8_t>()[4] = 3;
  try {
    codebook_dequantize(node("qf.CodebookDequantize"), idx, floats({3}, {0.f, 1.f, 2.f}));
    ADD_FAILURE() << "index 3 of 3 levels was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("outside the 3 levels"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cb"), std::string::npos) << e.what();
  }
}

TEST(Codebook, IndicesRoundTripAtEveryWidth) {
  std::mt19937 rng(5);
  for (int bits = 1; bits <= 7; ++bits)
    for (int64_t n : {1, 3, 7, 8, 9, 100}) {
      std::vector<uint8_t> v(static_cast<size_t>(n));
      for (auto& x : v) x = static_cast<uint8_t>(rng() % (1u << bits));
      const std::vector<uint8_t> p = pack_indices(v.data(), n, bits);
      EXPECT_EQ(static_cast<int64_t>(p.size()), (n * bits + 7) / 8);
      std::vector<uint8_t> back(static_cast<size_t>(n));
      unpack_indices(p.data(), n, bits, back.data());
      EXPECT_EQ(back, v) << bits << " bits, " << n;
    }
  EXPECT_EQ(index_bits_from_name("index2"), 2);
  EXPECT_EQ(index_bits_from_name("index3"), 3);
  EXPECT_EQ(index_bits_from_name("index8"), 0);
  EXPECT_EQ(index_bits_from_name("int2"), 0);
}

// x -> CodebookQuantize -> CodebookDequantize -> Conv(W = CodebookDequantize(index, [M, 4] levels)):
// a 2-bit codebook for both; the .qfp stores the weight indices at 2 bits and runs bit for bit like the
// ONNX file, which matches a direct computation.
TEST(Codebook, CodebookModelPacksIndicesAndRunsLikeItsOnnxFile) {
  const int64_t M = 3, C = 2, H = 5, W = 5;
  OnnxBuilder b;
  b.import_domain("ai.qforge", 1);
  b.input("x", {1, C, H, W});
  b.floats("thr", {3}, {0.f, 0.6f, 1.4f});
  b.floats("alevels", {4}, {0.f, 0.4f, 0.9f, 2.f});
  std::vector<int> wi;
  std::mt19937 rng(9);
  for (int64_t i = 0; i < M * C * 9; ++i) wi.push_back(static_cast<int>(rng() % 4));
  b.int8s("widx", {M, C, 3, 3}, wi, /*is_unsigned=*/true);
  std::vector<float> wl;
  for (int64_t m = 0; m < M; ++m)
    for (float l : {-1.5f, -0.5f, 0.25f, 1.f}) wl.push_back(l * static_cast<float>(m + 1));
  b.floats("wlevels", {M, 4}, wl);
  b.node("CodebookQuantize", {"x", "thr"}, {"xi"}, "aq")->set_domain("ai.qforge");
  b.node("CodebookDequantize", {"xi", "alevels"}, {"xq"}, "adq")->set_domain("ai.qforge");
  auto* wdq = b.node("CodebookDequantize", {"widx", "wlevels"}, {"w"}, "wdq");
  wdq->set_domain("ai.qforge");
  OnnxBuilder::attr(wdq, "axis", int64_t{0});
  auto* conv = b.node("Conv", {"xq", "w"}, {"y"}, "conv");
  OnnxBuilder::attr(conv, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.output("y");
  const std::string onnx = tmp("model.onnx"), qfp = tmp("model.qfp");
  b.save(onnx);
  pack_onnx(onnx, qfp);
  QfpInfo info;
  read_qfp(qfp, &info);
  bool packed = false;
  for (const auto& t : info.tensors)
    if (t.name == "widx") {
      EXPECT_EQ(t.kind, "index2");
      EXPECT_EQ(t.bytes, (M * C * 9 * 2 + 7) / 8);
      packed = true;
    }
  EXPECT_TRUE(packed);
  EXPECT_NE(inspect_qfp(qfp).find("cb2"), std::string::npos) << inspect_qfp(qfp);

  Tensor x(DType::F32, {1, C, H, W});
  std::uniform_real_distribution<float> d(-0.5f, 2.5f);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = d(rng);
  x.data<float>()[0] = 0.6f;  // on a boundary: the lower level
  ::unsetenv("QFORGE_RT_CODEBOOK");  // the default: levels no integer grid holds exactly stay on the float path
  Model a(onnx), p(qfp);
  const Tensor ya = a.run({x})[0], yp = p.run({x})[0];
  EXPECT_EQ(a.ops().count("qf.QConvToFloat"), 0u);
  ASSERT_EQ(ya.shape, (Shape{1, M, H, W}));
  EXPECT_EQ(0, std::memcmp(ya.bytes.data(), yp.bytes.data(), ya.bytes.size()));
  ::setenv("QFORGE_RT_CODEBOOK", "int16", 1);
  EXPECT_THROW(Model{onnx}, Error);
  ::setenv("QFORGE_RT_CODEBOOK", "int8", 1);  // levels on 8-bit grids, the conv on the int8 kernels
  Model ai(onnx), pi(qfp);
  ::unsetenv("QFORGE_RT_CODEBOOK");
  EXPECT_EQ(ai.ops().count("qf.QConvToFloat"), 1u);
  EXPECT_EQ(pi.ops().count("qf.QConvToFloat"), 1u);
  const Tensor yai = ai.run({x})[0], ypi = pi.run({x})[0];
  ASSERT_EQ(yai.shape, ya.shape);
  EXPECT_EQ(0, std::memcmp(yai.bytes.data(), ypi.bytes.data(), yai.bytes.size()));
  float dmax = 0, ymax = 0;
  for (int64_t i = 0; i < ya.numel(); ++i) {
    dmax = std::max(dmax, std::abs(yai.data<float>()[i] - ya.data<float>()[i]));
    ymax = std::max(ymax, std::abs(ya.data<float>()[i]));
  }
  EXPECT_GT(dmax, 0.f);                 // the grids move the levels a little...
  EXPECT_LT(dmax, 0.01f * ymax) << ymax;  // ...by at most half a step of 1/255 (activations), 1/127 (weights)
  const float al[] = {0.f, 0.4f, 0.9f, 2.f}, th[] = {0.f, 0.6f, 1.4f};
  auto act = [&](int64_t c, int64_t h, int64_t w) {
    if (h < 0 || h >= H || w < 0 || w >= W) return 0.0;
    const float v = x.data<float>()[(c * H + h) * W + w];
    int k = 0;
    for (float t : th) k += t < v;
    return static_cast<double>(al[k]);
  };
  for (int64_t m = 0; m < M; ++m)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w) {
        double s = 0;
        for (int64_t c = 0; c < C; ++c)
          for (int64_t i = 0; i < 3; ++i)
            for (int64_t j = 0; j < 3; ++j)
              s += act(c, h + i - 1, w + j - 1) * wl[static_cast<size_t>(m * 4 + wi[static_cast<size_t>(((m * C + c) * 3 + i) * 3 + j)])];
        EXPECT_NEAR(ya.data<float>()[(m * H + h) * W + w], s, 1e-4) << m << " " << h << " " << w;
      }
}

// A BatchNormalization after a Conv with codebook weights folds into the rows of levels (and the bias),
// as it folds into int8 weight scales: no BatchNormalization op is left, and the outputs match the graph
// run as written up to float rounding.
TEST(Codebook, BatchNormFoldsIntoTheLevels) {
  const int64_t M = 3, C = 2, H = 4, W = 4;
  OnnxBuilder b;
  b.import_domain("ai.qforge", 1);
  b.input("x", {1, C, H, W});
  std::vector<int> wi;
  for (int64_t i = 0; i < M * C * 9; ++i) wi.push_back(static_cast<int>(i * 7 % 4));
  b.int8s("widx", {M, C, 3, 3}, wi, /*is_unsigned=*/true);
  b.floats("wlevels", {4}, {-1.f, -0.25f, 0.5f, 1.5f});  // per tensor: becomes one row per channel
  b.floats("gamma", {M}, {0.5f, -2.f, 1.25f});  // a negative gamma flips that channel's levels
  b.floats("beta", {M}, {0.1f, -0.2f, 0.3f});
  b.floats("mean", {M}, {0.05f, 0.4f, -0.3f});
  b.floats("var", {M}, {1.5f, 0.25f, 4.f});
  b.node("CodebookDequantize", {"widx", "wlevels"}, {"w"}, "wdq")->set_domain("ai.qforge");
  auto* conv = b.node("Conv", {"x", "w"}, {"c"}, "conv");
  OnnxBuilder::attr(conv, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("BatchNormalization", {"c", "gamma", "beta", "mean", "var"}, {"y"}, "bn");
  b.output("y");
  const std::string onnx = tmp("bn.onnx"), qfp = tmp("bn.qfp");
  b.save(onnx);
  pack_onnx(onnx, qfp);
  Tensor x(DType::F32, {1, C, H, W});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>(i % 5) * 0.3f - 0.6f;
  Model as_written(onnx, /*lower=*/false), folded(qfp);
  EXPECT_EQ(as_written.ops().count("BatchNormalization"), 1u);
  EXPECT_EQ(folded.ops().count("BatchNormalization"), 0u);
  const Tensor ya = as_written.run({x})[0], yf = folded.run({x})[0];
  ASSERT_EQ(ya.shape, yf.shape);
  for (int64_t i = 0; i < ya.numel(); ++i) EXPECT_NEAR(yf.data<float>()[i], ya.data<float>()[i], 1e-5f) << i;
}

// Codebooks that an integer grid holds exactly (here XNOR-Net's sign activations, levels {-1, +1}, the boundary
// just below 0 so that 0 goes up as sign() sends it; and a uniform {0, 0.5, 1, 1.5}) go onto that grid at load,
// without QFORGE_RT_CODEBOOK=int8: the conv runs on the integer kernels (the XNOR one for the binary case),
// and its outputs equal the graph run as written up to float rounding.
TEST(Codebook, ExactLevelsTakeTheIntegerKernelsByDefault) {
  ::unsetenv("QFORGE_RT_CODEBOOK");
  qfrt_test::LowbitEnv all("all");
  struct Case {
    std::vector<float> thresholds, levels;
    const char* kernel;  // "" : the int8 kernel
  };
  const Case cases[] = {{{std::nextafter(0.f, -1.f)}, {-1.f, 1.f}, "xnor binary, channel-packed"},
                        {{0.25f, 0.75f, 1.25f}, {0.f, 0.5f, 1.f, 1.5f}, ""}};
  for (const Case& c : cases) {
    const int64_t M = 64, C = 64, H = 5, W = 5;
    OnnxBuilder b;
    b.import_domain("ai.qforge", 1);
    b.input("x", {2, C, H, W});
    const int64_t T = static_cast<int64_t>(c.thresholds.size()), L = static_cast<int64_t>(c.levels.size());
    b.floats("thr", {T}, c.thresholds);
    b.floats("alevels", {L}, c.levels);
    std::mt19937 rng(10);
    std::vector<int> wi;
    for (int64_t i = 0; i < M * C * 9; ++i) wi.push_back(rng() % 2 ? 1 : -1);
    b.int8s("wq", {M, C, 3, 3}, wi);
    std::vector<float> ws;
    for (int64_t m = 0; m < M; ++m) ws.push_back(0.01f * static_cast<float>(m + 1));
    b.floats("ws", {M}, ws);
    b.int8s("wzp", {M}, std::vector<int>(static_cast<size_t>(M), 0));
    b.node("CodebookQuantize", {"x", "thr"}, {"xi"}, "aq")->set_domain("ai.qforge");
    b.node("CodebookDequantize", {"xi", "alevels"}, {"xq"}, "adq")->set_domain("ai.qforge");
    OnnxBuilder::attr(b.node("DequantizeLinear", {"wq", "ws", "wzp"}, {"w"}, "wdq"), "axis", int64_t{0});
    auto* conv = b.node("Conv", {"xq", "w"}, {"y"}, "conv");
    OnnxBuilder::attr(conv, "pads", std::vector<int64_t>{1, 1, 1, 1});
    b.output("y");
    const std::string onnx = tmp("exact.onnx");
    b.save(onnx);
    Tensor x(DType::F32, {2, C, H, W});
    std::normal_distribution<float> d(0.6f, 0.7f);
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = d(rng);
    x.data<float>()[0] = 0.f, x.data<float>()[1] = -0.f, x.data<float>()[2] = 0.25f;  // boundaries
    Model ref(onnx, /*lower=*/false), m(onnx);
    EXPECT_EQ(m.ops().count("qf.QConvToFloat"), 1u) << c.kernel;
    EXPECT_EQ(m.ops().count("qf.CodebookDequantize"), 0u);
    if (*c.kernel) EXPECT_EQ(m.kernels()[c.kernel], 1) << c.kernel;
    ::setenv("QFORGE_RT_CODEBOOK", "float", 1);  // every codebook layer in float: the path before
    Model f(onnx);
    ::unsetenv("QFORGE_RT_CODEBOOK");
    EXPECT_EQ(f.ops().count("qf.QConvToFloat"), 0u);
    EXPECT_EQ(f.ops().count("qf.CodebookDequantize"), 1u);
    const Tensor yr = ref.run({x})[0], ym = m.run({x})[0];
    ASSERT_EQ(yr.shape, ym.shape);
    for (int64_t i = 0; i < yr.numel(); ++i)
      ASSERT_NEAR(ym.data<float>()[i], yr.data<float>()[i], 1e-5f * (1 + std::abs(yr.data<float>()[i]))) << i;
  }
}
