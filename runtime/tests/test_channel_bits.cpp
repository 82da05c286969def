// The channel-packed bit-serial path (channel_bits.h): the packed words hold exactly the bits their
// definition says on every ISA, and whole conv layers through it equal the int8 path byte for byte --
// every weight kind, activation width, signed and unsigned inputs, padding that is and is not the
// range's low end, strides, dilation, channel counts that are and are not multiples of 64.
#include <gtest/gtest.h>

#include <filesystem>

#include "graph/model.h"
#include "kernels/channel_bits.h"
#include "kernels/qlayer.h"
#include "lowbit_models.h"
#include "test_util.h"

using namespace qfrt;
using namespace qfrt_test;

TEST(ChannelBits, PackedWordsHoldEachChannelsBitsOnEveryIsa) {
  std::mt19937 rng(51);
  int checked = 0;
  for (int64_t C : {5, 64, 70, 130})
    for (int64_t HW : {1, 4, 7, 33})
      for (bool is_signed : {false, true})
        for (int planes : {1, 2, 4, 0}) {  // 0: the XNOR form
          const bool xnor = planes == 0;
          const int P = xnor ? 2 : planes;
          const uint8_t lo = static_cast<uint8_t>(rng() % 200);
          std::vector<uint8_t> x(static_cast<size_t>(C * HW));
          for (auto& v : x) v = static_cast<uint8_t>(rng());
          const int64_t G = (C + 63) / 64;
          std::vector<uint64_t> ref(static_cast<size_t>(HW * G * P), 0xdeadbeef);
          std::vector<int32_t> refpop(static_cast<size_t>(HW), -1);
          pack_channel_bits_scalar(x.data(), C, HW, is_signed, lo, P, xnor, ref.data(), refpop.data());
          for (int64_t c = 0; c < C; ++c)
            for (int64_t p = 0; p < HW; ++p) {
              const uint8_t u = static_cast<uint8_t>((x[static_cast<size_t>(c * HW + p)] ^ (is_signed ? 0x80 : 0)) - lo);
              for (int i = 0; i < P; ++i) {
                const bool want = xnor ? (i == 0 ? static_cast<int8_t>(u) > 0 : u != 0) : (u >> i & 1);
                ASSERT_EQ(want, (ref[static_cast<size_t>((p * G + c / 64) * P + i)] >> (c % 64) & 1) != 0)
                    << "C=" << C << " HW=" << HW << " c=" << c << " p=" << p << " plane " << i;
              }
            }
          for (int64_t w = 0; w < HW * G * P; ++w)  // channels past C stay zero
            if (C % 64 && (w / P) % G == G - 1) ASSERT_EQ(0u, ref[static_cast<size_t>(w)] >> (C % 64)) << "padding channel bits";
          for (int64_t p = 0; p < HW; ++p) EXPECT_EQ(refpop[static_cast<size_t>(p)], word_pop(ref.data() + p * G * P, G, P, xnor));
          if (!bitserial_avx512_available()) continue;
          std::vector<uint64_t> got(ref.size(), 0x1234);
          std::vector<int32_t> pop(refpop.size(), -7);
          pack_channel_bits_avx512(x.data(), C, HW, is_signed, lo, P, xnor, got.data(), pop.data());
          ASSERT_EQ(ref, got) << "C=" << C << " HW=" << HW << " planes " << P << (xnor ? " xnor" : "");
          ASSERT_EQ(refpop, pop);
          ++checked;
        }
  if (bitserial_avx512_available()) EXPECT_EQ(checked, 4 * 4 * 2 * 4);
}

namespace {
struct Kind {
  int wbits;
  bool binary, xnor;
  int wlo, whi;
};
}  // namespace

TEST(ChannelBits, LayersEqualTheInt8PathByteForByte) {
  LowbitEnv env("all");
  std::mt19937 rng(52);
  const Kind kinds[] = {{4, false, false, -8, 7}, {2, false, false, -2, 1}, {1, true, false, -1, 1},
                        {2, true, true, -1, 1},   {2, false, true, -1, 1}};  // xnor: binary, ternary weights
  int switched = 0;
  for (const Kind& k : kinds)
    for (int abits : {1, 2, 4})
      for (int variant = 0; variant < 9; ++variant) {
        if (k.xnor && abits != 1) continue;  // the XNOR form's inputs are one step around the zero point
        ConvGeom g;
        // 4 to 6: the dense form, 64 / C taps per word; 7, 8: 1x1 convs (stride 2), 64 and 16 channels
        const int64_t channels[] = {64, 60, 64, 128, 16, 32, 1, 64, 16};
        g.C = channels[variant], g.H = 9, g.W = 7, g.M = variant == 2 ? 24 : 10, g.kh = g.kw = variant >= 7 ? 1 : 3;
        g.sh = g.sw = variant == 1 || variant == 5 || variant >= 7 ? 2 : 1;
        g.dh = g.dw = variant == 3 ? 2 : 1;
        g.pt = g.pl = g.pb = g.pr = variant == 2 || variant >= 7 ? 0 : variant == 3 ? 2 : 1;
        g.OH = (g.H + g.pt + g.pb - g.dh * (g.kh - 1) - 1) / g.sh + 1, g.OW = (g.W + g.pl + g.pr - g.dw * (g.kw - 1) - 1) / g.sw + 1;
        const int64_t N = 2, K = g.K();
        QWeights qw;
        qw.M = g.M, qw.K = K, qw.w = random_ints<int8_t>(static_cast<size_t>(g.M * K), k.wlo, k.whi, rng);
        if (k.binary)
          for (auto& v : qw.w) v = v >= 0 ? 1 : -1;
        for (int64_t m = 0; m < g.M; ++m) qw.zp.push_back(0), qw.scale.push_back(0.01 + 0.001 * m);
        QInput in;
        in.is_signed = variant % 2 == 1;
        const int lo = in.is_signed ? -5 : 3;
        // Padding is the zero point: the range's low end, or (variant 2, bit-serial) a code inside it.
        in.zp = k.xnor ? lo + 1 : variant == 2 && abits > 1 ? lo + 1 : lo, in.scale = 0.05;
        std::vector<uint8_t> x(static_cast<size_t>(N * g.C * g.H * g.W));
        for (auto& v : x) v = static_cast<uint8_t>(k.xnor ? lo + 2 * static_cast<int>(rng() % 2) : lo + static_cast<int>(rng() % (1u << abits)));
        for (Epilogue::Kind kind : {Epilogue::Quantized, Epilogue::Float, Epilogue::Int32}) {
          const QLayer L8 = int8_test_layer(qw, in, kind);
          QLayer Lb = L8;
          ASSERT_TRUE(k.xnor ? enable_xnor(Lb, k.binary, lo, lo + 2) : enable_bitserial(Lb, k.wbits, k.binary, abits, lo));
          enable_channel_bits(Lb, g.C, g.kh, g.kw);
          ASSERT_TRUE(channel_bits_fits(Lb, g)) << "C=" << g.C;
          ++switched;
          expect_same_conv_output(L8, Lb, g, N, x,
                                  "w" + std::to_string(k.wbits) + (k.binary ? "bin" : "") + (k.xnor ? " xnor" : "") + " a" + std::to_string(abits) +
                                      " variant " + std::to_string(variant) + " kind " + std::to_string(kind));
        }
      }
  EXPECT_EQ(switched, (3 * 3 + 2) * 9 * 3);
}

TEST(ChannelBits, TakesOnlyLayersItFits) {
  LowbitEnv env("all");
  std::mt19937 rng(53);
  auto layer = [&](int64_t C, int64_t kh, bool wzp) {
    QWeights qw;
    qw.M = 8, qw.K = C * kh * kh, qw.w = random_ints<int8_t>(static_cast<size_t>(8 * C * kh * kh), -2, 1, rng);
    qw.zp.assign(8, wzp ? 1 : 0), qw.scale.assign(8, 0.01);
    QInput in;
    in.scale = 0.1;
    QOutput out;
    QLayer L = prepare_qlayer(qw, in, {}, {}, out);
    EXPECT_TRUE(enable_bitserial(L, 2, false, 2, 0));
    enable_channel_bits(L, C, kh, kh);
    return L;
  };
  EXPECT_EQ(layer(64, 3, false).cbits.G, 1);
  EXPECT_EQ(layer(52, 1, false).cbits.G, 1);   // 12 of 64 bits padding
  EXPECT_EQ(layer(48, 3, false).cbits.G, 0);   // 16 of 64: more than 1/4
  EXPECT_EQ(layer(16, 3, false).cbits.G, 1);   // dense: 4 taps a word
  EXPECT_EQ(layer(24, 3, false).cbits.G, 0);   // does not divide 64
  EXPECT_EQ(layer(64, 3, true).cbits.G, 0);    // weight zero points need column sums
  const QLayer L = layer(64, 3, false);
  ConvGeom g;
  g.C = 64, g.H = g.W = 5, g.M = 8, g.kh = g.kw = 3, g.OH = g.OW = 3;
  EXPECT_TRUE(channel_bits_fits(L, g));
  g.kh = g.kw = 1;
  EXPECT_FALSE(channel_bits_fits(L, g));  // prepared for another kernel
  g.kh = g.kw = 3, g.C = 128, g.group = 2;
  EXPECT_FALSE(channel_bits_fits(L, g));  // grouped
  QLayer int8 = prepare_qlayer(QWeights{8, 64 * 9, std::vector<int8_t>(8 * 64 * 9, 1), std::vector<int32_t>(8, 0), std::vector<double>(8, 0.1)},
                               QInput{}, {}, {}, QOutput{});
  enable_channel_bits(int8, 64, 3, 3);
  EXPECT_EQ(int8.cbits.G, 0);  // not a bit-serial layer
}

// A model whose 64-channel low-bit convs take the path: its kernels say so and its output equals int8's.
TEST(ChannelBits, ModelsTakeThePathAndMatchInt8) {
  const LowbitCase cases[] = {{-2, 1, false, 2, false, "bitserial W2A2, channel-packed"},
                              {-1, 1, true, 1, false, "xnor binary, channel-packed"},
                              {-1, 1, true, 2, false, "bitserial WbinA2, channel-packed"}};
  LowbitSpec s;
  s.C = 64, s.M = 64, s.H = s.W = 6;
  for (const LowbitCase& c : cases)
    expect_lowbit_model_equals_int8(c, s, (std::filesystem::temp_directory_path() / "qforge_rt_channel_bits_model.onnx").string(), 7, 8);
}

// Auto mode (the default) takes bit-serial from fewer output channels when the conv can be channel-packed,
// and from more where the int8 alternative runs on AMX tiles.
TEST(ChannelBits, AutoModeTakesPackableConvsFromSixtyFourChannels) {
  if (active_isa() != Isa::Avx512Vnni || !bitserial_avx512_available()) GTEST_SKIP() << "auto mode needs VNNI and vpopcntq";
  LowbitEnv env("auto");
  std::mt19937 rng(54);
  auto takes = [&](int64_t M, int wbits, int abits, int64_t C) {
    QWeights qw;
    qw.M = M, qw.K = 64 * 9, qw.w = random_ints<int8_t>(static_cast<size_t>(M * 64 * 9), -2, 1, rng);
    qw.zp.assign(static_cast<size_t>(M), 0), qw.scale.assign(static_cast<size_t>(M), 0.01);
    QLayer L = prepare_qlayer(qw, QInput{}, {}, {}, QOutput{});
    return enable_bitserial(L, wbits, false, abits, 0, C);
  };
  if (cpu_has_amx()) {
    // The int8 alternative runs on the tiles for whole 64-channel chunks and for panel layers: binary-like
    // products from 128 input and output channels, W2A2 and panel layers never.
    EXPECT_FALSE(takes(64, 2, 1, 64));
    EXPECT_TRUE(takes(128, 2, 1, 128));
    EXPECT_FALSE(takes(128, 2, 1, 64));
    EXPECT_FALSE(takes(128, 2, 1, 0));
    EXPECT_FALSE(takes(256, 2, 2, 256));
  } else {
    EXPECT_TRUE(takes(64, 2, 1, 64));    // packable: W2A1 from 64 rows
    EXPECT_FALSE(takes(64, 2, 1, 0));    // the panel path needs 128
    EXPECT_TRUE(takes(128, 2, 1, 0));
    EXPECT_FALSE(takes(64, 2, 2, 64));   // W2A2 packable from 128 rows
    EXPECT_TRUE(takes(128, 2, 2, 64));
  }
  EXPECT_FALSE(takes(128, 2, 2, 0));   // never on the panel path
  EXPECT_FALSE(takes(128, 4, 2, 64));  // W4A2: the int8 kernel
  EXPECT_EQ(takes(64, 2, 1, 32), !cpu_has_amx());  // the dense form from 32 input channels (int8 on the tiles beats it)
  EXPECT_TRUE(takes(64, 2, 1, 56));    // channels that fill no tile chunks: int8 on vpdpbusd, low-bit from 64 rows
  EXPECT_FALSE(takes(64, 2, 1, 16));
}
