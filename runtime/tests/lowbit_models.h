// Synthetic QDQ models at chosen bit widths, as qforge's QAT exports write them: a Clip to the
// activation grid before each QuantizeLinear, int8 weights whose values use only the low-bit range.
//   x -> Clip -> Q -> DQ -> conv1 (3x3, pad 1) [-> Add(., the DQ'd x)] -> Relu -> Clip -> Q -> DQ -> conv2 (3x3, stride 2) -> y (float)
// With the residual Add, conv1 has a float output (qf.QConvToFloat) and conv2's QuantizeLinear runs in its epilogue.
#pragma once
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "graph/model.h"
#include "kernels/qlayer.h"
#include "onnx_builder.h"
#include "test_util.h"

namespace qfrt_test {

struct LowbitSpec {
  int w_lo = -8, w_hi = 7;  // weight integer range; w_lo == -1, w_hi == 1, no_zero: binary
  bool no_zero = false;     // weights never 0 (binary {-1, +1})
  bool pow2 = false;        // weights 0 or +-2^e within [w_lo, w_hi] (power-of-two grids)
  int a_bits = 4;           // activations on [0, 2^a_bits - 1] (uint8, zero point 0)
  bool ternary_acts = false;  // activations on [-1, 1] instead (int8, zero point 0, no Relu)
  int64_t C = 8, M = 16, H = 10, W = 10, batch = 2;
  bool bias = true;
  bool residual = false;  // conv1's output plus its input (C == M), as a ResNet block ends
};

inline void lowbit_model(const LowbitSpec& s, const std::string& path, unsigned seed = 3) {
  std::mt19937 rng(seed);
  OnnxBuilder b;
  b.input("x", {s.batch, s.C, s.H, s.W});
  const float amax = s.ternary_acts ? 1.f : static_cast<float>((1 << s.a_bits) - 1), amin = s.ternary_acts ? -1.f : 0.f;
  auto qdq = [&](const std::string& in, const std::string& tag, float scale) {
    b.floats(tag + "_lo", {}, {amin * scale});
    b.floats(tag + "_hi", {}, {amax * scale});
    b.node("Clip", {in, tag + "_lo", tag + "_hi"}, {tag + "_c"}, tag + "_clip");
    b.floats(tag + "_s", {}, {scale});
    b.int8s(tag + "_z", {}, {0}, !s.ternary_acts);
    b.node("QuantizeLinear", {tag + "_c", tag + "_s", tag + "_z"}, {tag + "_q"}, tag + "_quantize");
    b.node("DequantizeLinear", {tag + "_q", tag + "_s", tag + "_z"}, {tag + "_d"}, tag + "_dequantize");
    return tag + "_d";
  };
  auto weight = [&](const std::string& tag, int64_t M, int64_t C) {
    std::uniform_int_distribution<int> d(s.w_lo, s.w_hi);
    std::vector<int> v(static_cast<size_t>(M * C * 9));
    for (auto& x : v) {
      do x = d(rng);
      while ((s.no_zero && x == 0) || (s.pow2 && (std::abs(x) & (std::abs(x) - 1)) != 0));
    }
    b.int8s(tag + "_wq", {M, C, 3, 3}, v);
    std::uniform_real_distribution<float> sc(0.02f, 0.08f);
    std::vector<float> ws(static_cast<size_t>(M));
    for (auto& x : ws) x = sc(rng);
    b.floats(tag + "_ws", {M}, ws);
    b.int8s(tag + "_wz", {M}, std::vector<int>(static_cast<size_t>(M), 0));
    auto* n = b.node("DequantizeLinear", {tag + "_wq", tag + "_ws", tag + "_wz"}, {tag + "_w"}, tag + "_wdq");
    OnnxBuilder::attr(n, "axis", int64_t{0});
    std::vector<std::string> in = {tag + "_w"};
    if (s.bias) {
      std::uniform_real_distribution<float> bd(-0.3f, 0.3f);
      std::vector<float> bv(static_cast<size_t>(M));
      for (auto& x : bv) x = bd(rng);
      b.floats(tag + "_b", {M}, bv);
      in.push_back(tag + "_b");
    }
    return in;
  };
  std::vector<std::string> w1 = weight("conv1", s.M, s.C);
  const std::string x_dq = qdq("x", "a0", 1.f / amax);
  w1.insert(w1.begin(), x_dq);
  auto* c1 = b.node("Conv", w1, {"c1"}, "conv1");
  OnnxBuilder::attr(c1, "pads", std::vector<int64_t>{1, 1, 1, 1});
  std::string sum = "c1";
  if (s.residual) b.node("Add", {"c1", x_dq}, {sum = "s1"}, "add1");
  if (s.ternary_acts) b.node("Identity", {sum}, {"r1"}, "id1");
  else b.node("Relu", {sum}, {"r1"}, "relu1");
  std::vector<std::string> w2 = weight("conv2", s.M, s.M);
  w2.insert(w2.begin(), qdq("r1", "a1", 0.5f));
  auto* c2 = b.node("Conv", w2, {"y"}, "conv2");
  OnnxBuilder::attr(c2, "pads", std::vector<int64_t>{1, 1, 1, 1});
  OnnxBuilder::attr(c2, "strides", std::vector<int64_t>{2, 2});
  b.output("y");
  b.save(path);
}

// One synthetic model's widths and the kernel they should pick.
struct LowbitCase {
  int lo, hi;  // weight range
  bool no_zero;
  int a_bits;
  bool ternary_acts;
  const char* kernel;  // a prefix: a conv's name may add ", channel-packed"
};

// Builds the model of `c` on top of `base` (channels, size), runs it on int8 kernels only and then with
// QFORGE_RT_LOWBIT=all on every ISA: both layers take c.kernel, and the outputs are byte-identical.
inline void expect_lowbit_model_equals_int8(const LowbitCase& c, LowbitSpec s, const std::string& path, unsigned model_seed,
                                            unsigned input_seed) {
  s.w_lo = c.lo, s.w_hi = c.hi, s.no_zero = c.no_zero, s.a_bits = c.a_bits, s.ternary_acts = c.ternary_acts;
  lowbit_model(s, path, model_seed);
  qfrt::Tensor x(qfrt::DType::F32, {s.batch, s.C, s.H, s.W});
  std::mt19937 rng(input_seed);
  std::uniform_real_distribution<float> d(-0.3f, 1.3f);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = d(rng);
  qfrt::Tensor y8;
  {
    LowbitEnv off("0");
    qfrt::Model m(path);
    EXPECT_TRUE(m.kernels().empty());
    y8 = m.run({x})[0];
  }
  for (qfrt::Isa isa : all_isas()) {
    IsaScope scope(isa);
    LowbitEnv all("all");
    qfrt::Model m(path);
    EXPECT_EQ(kernels_named(m, c.kernel), 2) << c.kernel;
    const qfrt::Tensor yb = m.run({x})[0];
    ASSERT_EQ(y8.bytes, yb.bytes) << c.kernel << " " << qfrt::isa_name(isa);
  }
}

// The int8 layer of (qw, in) with an output of `kind` (scale 0.3, zero point 4, a float bias 0.37 unless Int32):
// what the low-bit layer tests switch to a low-bit kernel and compare against.
inline qfrt::QLayer int8_test_layer(const qfrt::QWeights& qw, const qfrt::QInput& in, qfrt::Epilogue::Kind kind) {
  qfrt::QOutput out;
  out.kind = kind, out.scale = 0.3, out.zp = 4;
  const std::vector<float> bias_f = kind == qfrt::Epilogue::Int32 ? std::vector<float>() : std::vector<float>(static_cast<size_t>(qw.M), 0.37f);
  return qfrt::prepare_qlayer(qw, in, {}, bias_f, out);
}

// Both conv layers give the same bytes for x on every ISA.
inline void expect_same_conv_output(const qfrt::QLayer& a, const qfrt::QLayer& b, const qfrt::ConvGeom& g, int64_t N,
                                    const std::vector<uint8_t>& x, const std::string& what) {
  for (qfrt::Isa isa : all_isas()) {
    std::vector<uint8_t> ya(static_cast<size_t>(N * g.M * g.OH * g.OW) * a.out.elem_size()), yb(ya.size(), 0xAB);
    qfrt::qconv_run(isa, a, g, N, x.data(), ya.data());
    qfrt::qconv_run(isa, b, g, N, x.data(), yb.data());
    ASSERT_EQ(ya, yb) << what << " " << qfrt::isa_name(isa);
  }
}

}  // namespace qfrt_test
