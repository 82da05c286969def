// QDQ lowering on a model shaped like qforge's exports (narrow-grid Clip, depthwise, a per-channel clip
// and MaxPool after ReLU, a float residual Add, an integer Add, global average pooling, int8 Gemm output):
// the integer path must (1) really replace the float ops, (2) give the same outputs on every ISA,
// (3) agree with the same file run op by op in float (no lowering) up to rounding-boundary flips.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "core/parallel.h"
#include "graph/batch_split.h"
#include "graph/lower_qdq.h"
#include "graph/model.h"
#include "onnx_builder.h"
#include "test_util.h"

using namespace qfrt;
using qfrt_test::OnnxBuilder;

namespace {
std::vector<int> rand_w(size_t n, std::mt19937& rng) { return qfrt_test::random_ints<int>(n, -127, 127, rng); }

std::vector<float> rand_scales(size_t n, float lo, float hi, std::mt19937& rng) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Q -> DQ pair on `in`, named after `tag`; returns the DQ output.
std::string qdq(OnnxBuilder& b, const std::string& in, const std::string& tag, float scale, int zp, bool is_unsigned) {
  b.floats(tag + "_s", {}, {scale});
  b.int8s(tag + "_z", {}, {zp}, is_unsigned);
  b.node("QuantizeLinear", {in, tag + "_s", tag + "_z"}, {tag + "_q"}, tag + "_quantize");
  b.node("DequantizeLinear", {tag + "_q", tag + "_s", tag + "_z"}, {tag + "_d"}, tag + "_dequantize");
  return tag + "_d";
}

// Per-channel int8 weights read by DequantizeLinear (axis 0).
std::string qweight(OnnxBuilder& b, const std::string& tag, std::vector<int64_t> shape, std::mt19937& rng, float s_lo, float s_hi) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  b.int8s(tag + "_wq", shape, rand_w(static_cast<size_t>(n), rng));
  b.floats(tag + "_ws", {shape[0]}, rand_scales(static_cast<size_t>(shape[0]), s_lo, s_hi, rng));
  b.int8s(tag + "_wz", {shape[0]}, std::vector<int>(static_cast<size_t>(shape[0]), 0));
  auto* d = b.node("DequantizeLinear", {tag + "_wq", tag + "_ws", tag + "_wz"}, {tag + "_w"}, tag + "_wdq");
  OnnxBuilder::attr(d, "axis", int64_t{0});
  return tag + "_w";
}

std::string build(const std::string& path) {
  std::mt19937 rng(11);
  OnnxBuilder b;
  b.input("x", {2, 3, 8, 8});
  const std::string x = qdq(b, "x", "in", 1.f / 127, 0, false);
  // conv1 3x3 -> Relu -> Clip to a 4-bit grid -> Q(uint8)
  b.floats("b1", {8}, rand_scales(8, -0.5f, 0.5f, rng));
  auto* c1 = b.node("Conv", {x, qweight(b, "c1", {8, 3, 3, 3}, rng, 0.004f, 0.01f), "b1"}, {"c1"}, "conv1");
  OnnxBuilder::attr(c1, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"c1"}, {"r1"}, "relu1");
  b.floats("clip_lo", {}, {0.f});
  b.floats("clip_hi", {}, {15 * 0.1f});
  b.node("Clip", {"r1", "clip_lo", "clip_hi"}, {"cl1"}, "clip1");
  const std::string d1 = qdq(b, "cl1", "a1", 0.1f, 0, true);
  // depthwise stride 2 -> Relu -> MaxPool -> Q
  auto* c2 = b.node("Conv", {d1, qweight(b, "c2", {8, 1, 3, 3}, rng, 0.004f, 0.01f)}, {"c2"}, "conv2_dw");
  OnnxBuilder::attr(c2, "pads", std::vector<int64_t>{1, 1, 1, 1});
  OnnxBuilder::attr(c2, "strides", std::vector<int64_t>{2, 2});
  OnnxBuilder::attr(c2, "group", int64_t{8});
  b.node("Relu", {"c2"}, {"r2"}, "relu2");
  // the per-channel clip cross-layer equalization leaves for a ReLU6: Min against a [C, 1, 1] bound
  b.floats("bound2", {8, 1, 1}, rand_scales(8, 0.1f, 3.f, rng));
  b.node("Min", {"r2", "bound2"}, {"n2"}, "clip2");
  auto* mp = b.node("MaxPool", {"n2"}, {"m2"}, "pool2");
  OnnxBuilder::attr(mp, "kernel_shape", std::vector<int64_t>{2, 2});
  const std::string d2 = qdq(b, "m2", "a2", 0.02f, 0, true);
  // 1x1 conv, float output, + dequantized skip -> Relu -> Q   (the ResNet block ending)
  b.node("Conv", {d2, qweight(b, "c3", {8, 8, 1, 1}, rng, 0.004f, 0.01f)}, {"c3"}, "conv3");
  b.node("Add", {"c3", d2}, {"s3"}, "add3");
  b.node("Relu", {"s3"}, {"r3"}, "relu3");
  const std::string d3 = qdq(b, "r3", "a3", 0.02f, 0, true);
  // integer Add of two dequantized tensors, then global average pooling between DQ and Q
  b.node("Add", {d3, d2}, {"s4"}, "add4");
  const std::string d4 = qdq(b, "s4", "a4", 0.03f, 0, true);
  b.node("GlobalAveragePool", {d4}, {"g5"}, "gap");
  const std::string d5 = qdq(b, "g5", "a5", 0.03f, 0, true);
  b.node("Flatten", {d5}, {"f5"}, "flatten");
  b.floats("b6", {10}, rand_scales(10, -0.2f, 0.2f, rng));
  auto* fc = b.node("Gemm", {"f5", qweight(b, "fc", {10, 8}, rng, 0.004f, 0.01f), "b6"}, {"logits"}, "fc");
  OnnxBuilder::attr(fc, "transB", int64_t{1});
  const std::string y = qdq(b, "logits", "out", 0.05f, 0, false);
  b.node("Identity", {y}, {"y"}, "out_identity");
  b.output("y");
  b.save(path);
  return path;
}

Tensor input(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  Tensor x(DType::F32, {2, 3, 8, 8});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = d(rng);
  return x;
}
}  // namespace

TEST(Lowering, QdqPatternsBecomeIntegerOps) {
  const std::string p = build((std::filesystem::temp_directory_path() / "qforge_rt_lowering.onnx").string());
  Model m(p);
  auto ops = m.ops();
  EXPECT_EQ(ops["QLinearConv"], 2);        // conv1 (with the 4-bit clip), conv2 (depthwise)
  EXPECT_EQ(ops["qf.QConvToFloat"], 1);    // conv3 feeds a float Add
  EXPECT_EQ(ops["qf.QAdd"], 1);
  EXPECT_EQ(ops["qf.QAveragePool"], 1);
  EXPECT_EQ(ops["qf.QGemm"], 1);
  EXPECT_EQ(ops["MaxPool"], 1);            // now on uint8
  EXPECT_EQ(ops["qf.QChannelMin"], 0);     // the per-channel clip: in conv2's requantization (rewrite 10)
  EXPECT_EQ(ops["Conv"] + ops["Gemm"] + ops["Relu"] + ops["Clip"] + ops["Min"] + ops["Add"], 0);  // conv3 + Add fused
  EXPECT_EQ(ops["QuantizeLinear"], 1);     // the input's; a3's runs in conv3's epilogue (rewrite 9)
  Graph g = load_onnx(p);
  lower_qdq(g);
  EXPECT_EQ(op_histogram(g)["qf.QChannelMin"], 1);  // what a .qfp stores: on uint8, its own op
}

// Rewrite 9 (at load): the QuantizeLinear after conv3 becomes conv3's second output. The graph lowered
// without it must give the same bytes on every ISA.
TEST(Lowering, QuantizeAfterAFloatConvRunsInItsEpilogueWithTheSameBytes) {
  const std::string p = build((std::filesystem::temp_directory_path() / "qforge_rt_lowering3.onnx").string());
  Graph g = load_onnx(p);
  lower_qdq(g);
  const int64_t q_unfused = op_histogram(g)["QuantizeLinear"];
  for (qfrt::Isa isa : qfrt_test::all_isas()) {
    qfrt_test::IsaScope scope(isa);
    Model fused(p), unfused(g, /*lower=*/false);
    EXPECT_EQ(fused.ops()["QuantizeLinear"], q_unfused - 1);
    for (uint32_t seed = 0; seed < 5; ++seed) {
      const Tensor x = input(seed);
      EXPECT_EQ(fused.run({x})[0].bytes, unfused.run({x})[0].bytes) << isa_name(isa) << " seed " << seed;
    }
  }
}

TEST(Lowering, IntegerPathMatchesFloatOpsUpToRoundingFlips) {
  const std::string p = build((std::filesystem::temp_directory_path() / "qforge_rt_lowering2.onnx").string());
  Model reference(p, /*lower=*/false);
  std::vector<Tensor> first;
  int64_t total = 0, differ = 0;
  float max_steps = 0;
  std::set<float> distinct;  // the outputs must not be saturated or constant, or the comparison proves nothing
  for (qfrt::Isa isa : qfrt_test::all_isas()) {
    qfrt_test::IsaScope scope(isa);
    Model m(p);
    for (uint32_t seed = 0; seed < 20; ++seed) {
      const Tensor x = input(seed);
      const Tensor got = m.run({x})[0];
      if (isa == Isa::Scalar) {
        first.push_back(got);
        const Tensor want = reference.run({x})[0];
        ASSERT_EQ(got.shape, want.shape);
        for (int64_t i = 0; i < got.numel(); ++i) {
          const float steps = std::fabs(got.data<float>()[i] - want.data<float>()[i]) / 0.05f;
          max_steps = std::max(max_steps, steps);
          differ += steps > 0.01f;
          distinct.insert(want.data<float>()[i]);
          ++total;
        }
      } else {
        EXPECT_EQ(got.bytes, first[seed].bytes) << isa_name(isa) << " seed " << seed;
      }
    }
  }
  std::printf("lowered vs float ops: %lld of %lld outputs differ, max %.2f steps\n", static_cast<long long>(differ),
              static_cast<long long>(total), max_steps);
  EXPECT_GT(distinct.size(), 100u);
  EXPECT_LE(max_steps, 2.01f);
  EXPECT_LE(differ, total / 20);
}

// A per-channel clip (Min against a [C, 1, 1] bound) before a QuantizeLinear runs on the quantized values
// as qf.QChannelMin (exact, since Q is monotonic), and at load in the conv's requantization as a per-row upper
// clamp (rewrite 10): both give the same bytes on every ISA. Each channel's output must stop at its own bound's
// code, which the tensor reaches (the bounds lie inside the activations' range).
namespace {
// conv -> Relu -> Min(bound [4, 1, 1]) -> Q (uint8, or int8 with zero point 0).
void check_channel_clip(const std::vector<float>& bound, bool is_unsigned, bool fuses, const std::string& file) {
  std::mt19937 rng(13);
  OnnxBuilder b;
  b.input("x", {2, 3, 6, 6});
  const std::string x = qdq(b, "x", "in", 1.f / 127, 0, false);
  auto* c = b.node("Conv", {x, qweight(b, "c", {4, 3, 3, 3}, rng, 0.004f, 0.01f)}, {"c"}, "conv");
  OnnxBuilder::attr(c, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"c"}, {"r"}, "relu");
  b.floats("bound", {4, 1, 1}, bound);
  b.node("Min", {"r", "bound"}, {"n"}, "clip");
  b.output(qdq(b, "n", "a", 0.01f, 0, is_unsigned));
  const std::string p = (std::filesystem::temp_directory_path() / file).string();
  b.save(p);
  Model reference(p, /*lower=*/false);
  Graph lowered = load_onnx(p);
  lower_qdq(lowered);
  EXPECT_EQ(op_histogram(lowered)["qf.QChannelMin"], 1);
  std::vector<int64_t> at_bound(4, 0);
  for (qfrt::Isa isa : qfrt_test::all_isas()) {
    qfrt_test::IsaScope scope(isa);
    Model m(p), unfused(lowered, /*lower=*/false);
    EXPECT_EQ(m.ops()["qf.QChannelMin"], fuses ? 0 : 1);
    EXPECT_EQ(m.ops()["Min"] + m.ops()["Relu"], 0);
    EXPECT_EQ(m.ops()["QLinearConv"], 1);
    for (uint32_t seed = 0; seed < 5; ++seed) {
      Tensor xin(DType::F32, {2, 3, 6, 6});
      std::uniform_real_distribution<float> d(-1.f, 1.f);
      std::mt19937 r(seed);
      for (int64_t i = 0; i < xin.numel(); ++i) xin.data<float>()[i] = d(r);
      EXPECT_EQ(m.run({xin})[0].bytes, unfused.run({xin})[0].bytes) << isa_name(isa) << " seed " << seed;
      if (isa != Isa::Scalar) continue;
      const Tensor got = m.run({xin})[0], want = reference.run({xin})[0];
      ASSERT_EQ(got.shape, want.shape);
      for (int64_t i = 0; i < got.numel(); ++i) {
        const int64_t ch = (i / 36) % 4;
        const float v = got.data<float>()[i], hi = std::max(bound[static_cast<size_t>(ch)], is_unsigned ? 0.f : -1.28f);
        EXPECT_LE(v, hi + 1e-6f) << "channel " << ch;
        EXPECT_LE(std::fabs(v - want.data<float>()[i]), 0.0101f) << i;  // one step where the conv's rounding flipped
        at_bound[static_cast<size_t>(ch)] += std::fabs(v - hi) < 1e-6f;
      }
    }
  }
  for (int ch = 0; ch < 3; ++ch) EXPECT_GT(at_bound[static_cast<size_t>(ch)], 0) << "channel " << ch << " never reached its bound";
}
}  // namespace

TEST(Lowering, PerChannelClipRunsOnQuantizedValues) {
  check_channel_clip({0.05f, 0.2f, 0.5f, 4.f}, true, true, "qforge_rt_channel_clip.onnx");
}
// A bound below zero, with an int8 output: its code (-5) lies below the Relu's clamp (0), so the
// requantization cannot take it as an upper clamp; the op stays, and channel 0 is -0.05 throughout.
TEST(Lowering, PerChannelClipBelowTheReluStaysItsOwnOp) {
  check_channel_clip({-0.05f, 0.2f, 0.5f, 4.f}, false, false, "qforge_rt_channel_clip_neg.onnx");
}

// A ResNet stem: conv (float output) -> Relu [-> MaxPool], whose float output feeds both a quantized
// conv and the residual Add. The Relu must fuse into the conv (without the pool, the quantized conv's Q
// reads the conv directly after step 2 and must be moved onto the fused output), and a MaxPool must run
// once, in float, with Q after it (moving Q above it would run the pool a second time on integers).
namespace {
void check_stem(bool pool) {
  std::mt19937 rng(12);
  OnnxBuilder b;
  b.input("x", {1, 3, 12, 12});
  const std::string x = qdq(b, "x", "in", 1.f / 127, 0, false);
  auto* c0 = b.node("Conv", {x, qweight(b, "c0", {8, 3, 3, 3}, rng, 0.004f, 0.01f)}, {"c0"}, "stem");
  OnnxBuilder::attr(c0, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"c0"}, {"r0"}, "stem_relu");
  std::string m0 = "r0";
  if (pool) {
    auto* mp = b.node("MaxPool", {"r0"}, {"m0"}, "stem_pool");
    OnnxBuilder::attr(mp, "kernel_shape", std::vector<int64_t>{2, 2});
    OnnxBuilder::attr(mp, "strides", std::vector<int64_t>{2, 2});
    m0 = "m0";
  }
  const std::string d0 = qdq(b, m0, "a0", 0.01f, 0, true);
  b.node("Conv", {d0, qweight(b, "c1", {8, 8, 1, 1}, rng, 0.004f, 0.01f)}, {"c1"}, "block_conv");
  b.node("Add", {"c1", m0}, {"y"}, "block_add");
  b.output("y");
  const std::string p = (std::filesystem::temp_directory_path() / (pool ? "qforge_rt_lowering_stem.onnx" : "qforge_rt_lowering_stem2.onnx")).string();
  b.save(p);
  Model m(p), reference(p, /*lower=*/false);
  auto ops = m.ops();
  EXPECT_EQ(ops["qf.QConvToFloat"], 2);
  EXPECT_EQ(ops["Relu"], 0);
  EXPECT_EQ(ops["MaxPool"], pool ? 1 : 0);
  EXPECT_EQ(ops["Conv"] + ops["Add"], 0);
  const int64_t side = pool ? 6 : 12;
  int64_t total = 0, differ = 0;
  for (uint32_t seed = 0; seed < 10; ++seed) {
    Tensor xin(DType::F32, {1, 3, 12, 12});
    std::uniform_real_distribution<float> d(-1.f, 1.f);
    std::mt19937 r(seed);
    for (int64_t i = 0; i < xin.numel(); ++i) xin.data<float>()[i] = d(r);
    const Tensor got = m.run({xin})[0], want = reference.run({xin})[0];
    ASSERT_EQ(got.shape, (Shape{1, 8, side, side}));
    ASSERT_EQ(got.shape, want.shape);
    for (int64_t i = 0; i < got.numel(); ++i) {
      // Up to float rounding, or one step of a0 (0.01) through a 1x1 conv where Q flipped a boundary.
      const float diff = std::fabs(got.data<float>()[i] - want.data<float>()[i]);
      EXPECT_LE(diff, 0.01f * 8 * 127 * 0.01f) << i;
      differ += diff > 1e-4f;
      ++total;
    }
  }
  EXPECT_LE(differ, total / 20);
}
}  // namespace

TEST(Lowering, StemReluFusesAndASharedMaxPoolRunsOnce) { check_stem(true); }
TEST(Lowering, StemReluFusesWhenAQuantizeReadsTheConv) { check_stem(false); }

// Batch parts (batch_split.h): this model's nodes are all per image, so a batch runs as one part per thread;
// its outputs must be the bytes of running the images one by one (batch 1 never splits).
TEST(BatchSplit, PartsGiveTheBytesOfImageByImageRuns) {
  const std::string p = build((std::filesystem::temp_directory_path() / "qforge_rt_batch_parts.onnx").string());
  Model m(p);
  EXPECT_TRUE(m.batch_parts());
  if (thread_count() < 2) GTEST_SKIP() << "one thread: batches are not split";
  for (int64_t batch : {2, 3, 7}) {
    Tensor x(DType::F32, {batch, 3, 8, 8});
    const Tensor one = input(static_cast<uint32_t>(batch));  // 2 images
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = one.data<float>()[i % one.numel()] * (1.f - 0.1f * static_cast<float>(i / one.numel()));
    const Tensor got = m.run({x})[0];
    std::vector<Tensor> singles;
    for (int64_t b = 0; b < batch; ++b) singles.push_back(m.run({batch_slice(x, b, b + 1)})[0]);
    EXPECT_EQ(got.bytes, batch_concat(singles).bytes) << "batch " << batch;
    EXPECT_EQ(got.shape, (Shape{batch, 10}));
  }
}

TEST(BatchSplit, AllowListRefusesNodesThatMixImages) {
  Graph g;
  auto ints = [&](const std::string& name, std::vector<int64_t> v) {
    Tensor t(DType::I64, {static_cast<int64_t>(v.size())});
    for (size_t k = 0; k < v.size(); ++k) t.data<int64_t>()[k] = v[k];
    g.initializers[name] = t;
  };
  ints("keep_batch", {0, -1});
  ints("infer_batch", {-1, 512});
  ints("fixed_batch", {32, -1});
  ints("two_inferred", {-1, -1});
  auto node = [](const std::string& op, std::vector<std::string> in, std::map<std::string, int64_t> attrs = {}) {
    Node n;
    n.op = op;
    n.inputs = std::move(in);
    for (const auto& kv : attrs) n.attrs[kv.first].i = kv.second;
    return n;
  };
  EXPECT_TRUE(batch_independent(node("Reshape", {"x", "keep_batch"}), g));
  EXPECT_TRUE(batch_independent(node("Reshape", {"x", "infer_batch"}), g));
  EXPECT_FALSE(batch_independent(node("Reshape", {"x", "fixed_batch"}), g));
  EXPECT_FALSE(batch_independent(node("Reshape", {"x", "two_inferred"}), g));
  EXPECT_FALSE(batch_independent(node("Reshape", {"x", "computed_shape"}), g));
  EXPECT_TRUE(batch_independent(node("Flatten", {"x"}), g));
  EXPECT_FALSE(batch_independent(node("Flatten", {"x"}, {{"axis", 0}}), g));
  EXPECT_FALSE(batch_independent(node("Softmax", {"x"}, {{"axis", 0}}), g));
  EXPECT_FALSE(batch_independent(node("Softmax", {"x"}), g));  // axis -1: the batch itself at rank 1
  EXPECT_TRUE(batch_independent(node("Softmax", {"x"}, {{"axis", 1}}), g));
  EXPECT_FALSE(batch_independent(node("Concat", {"x", "y"}, {{"axis", 0}}), g));
  EXPECT_FALSE(batch_independent(node("Gemm", {"x", "activation_w"}), g));  // weights computed: not per image
  EXPECT_FALSE(batch_independent(node("ReduceMean", {"x"}), g));            // not on the list
  EXPECT_TRUE(batch_independent(node("QLinearConv", {"x"}), g));
}
