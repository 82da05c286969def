// Calibrators: min/max and moving-average ranges against PyTorch's own observers (goldens written by
// scripts/goldens/make_observer_goldens.py), the histogram calibrators on distributions whose answer
// is known, and weight clipping.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "qforge/data/npy.h"
#include "qforge/quant/calibrate.h"

using namespace qforge;
using quant::Calibrator;
using quant::CalibratorOptions;
using quant::RangeStats;

namespace {
const std::string kDir = std::string(QFORGE_SOURCE_DIR) + "/tests/quant/goldens/observers/";

nlohmann::json expected() {
  std::ifstream f(kDir + "expected.json");
  return nlohmann::json::parse(f);
}

CalibratorOptions opts(Calibrator k, double percentile = 99.99) {
  CalibratorOptions o;
  o.kind = k;
  o.percentile = percentile;
  return o;
}

// Scale of the uniform method's grid for threshold t (signed symmetric: t / 127.5 at 8 bits).
double signed_scale(double t) { return t / 127.5; }
}  // namespace

TEST(Calibrate, MinMaxAndMovingAverageMatchPyTorchObservers) {
  const at::Tensor batches = data::read_npy(kDir + "batches.npy");
  const nlohmann::json e = expected();
  RangeStats sym(true), uns(false);
  for (int64_t i = 0; i < batches.size(0); ++i) {
    sym.observe(batches[i]);
    uns.observe(at::relu(batches[i]));
  }
  EXPECT_NEAR(signed_scale(sym.threshold(opts(Calibrator::MinMax), 8)), e["minmax_signed_scale"].get<double>(), 1e-7);
  EXPECT_NEAR(uns.threshold(opts(Calibrator::MinMax), 8) / 255.0, e["minmax_unsigned_scale"].get<double>(), 1e-7);
  EXPECT_NEAR(signed_scale(sym.threshold(opts(Calibrator::MovingAverage), 8)), e["ema_signed_scale"].get<double>(), 1e-7);
}

TEST(Calibrate, PerChannelWeightRangesMatchPyTorch) {
  const at::Tensor w = data::read_npy(kDir + "weight.npy");
  const auto want = expected()["weight_per_channel_scales"].get<std::vector<double>>();
  at::Tensor t = quant::weight_thresholds(w, 8, true, "minmax");
  ASSERT_EQ(t.numel(), static_cast<int64_t>(want.size()));
  for (size_t c = 0; c < want.size(); ++c) EXPECT_NEAR(signed_scale(t[c].item<double>()), want[c], 1e-7) << "channel " << c;
}

TEST(Calibrate, PercentileOfAFlatHistogram) {
  std::vector<double> h(1000, 1.0);  // uniform magnitudes on [0, 2]
  EXPECT_NEAR(quant::percentile_threshold(h, 2.0, 50), 1.0, 1e-9);
  EXPECT_NEAR(quant::percentile_threshold(h, 2.0, 99.9), 1.998, 1e-9);
  EXPECT_NEAR(quant::percentile_threshold(h, 2.0, 100), 2.0, 1e-9);
  EXPECT_THROW(quant::percentile_threshold(h, 2.0, 0), std::invalid_argument);
}

TEST(Calibrate, HistogramCalibratorsClipAnOutlierThatMinMaxKeeps) {
  torch::manual_seed(0);
  RangeStats s(true);
  at::Tensor x = torch::randn({200000});
  x[17] = 60.0;  // one huge outlier
  s.observe(x);
  s.observe_histogram(x);
  EXPECT_NEAR(s.threshold(opts(Calibrator::MinMax), 8), 60.0, 1e-5);
  for (Calibrator k : {Calibrator::Percentile, Calibrator::Entropy}) {
    const double t = s.threshold(opts(k, 99.99), 8);
    EXPECT_GT(t, 2.5) << quant::calibrator_name(k);  // keeps the bulk of a unit normal
    EXPECT_LT(t, 12.0) << quant::calibrator_name(k);  // drops the outlier
  }
  // MSE trades the outlier's clipping error against everyone's rounding error: at 8 bits it keeps
  // part of the range (one outlier in 2e5 costs (60 - T)^2, a finer step saves 2e5 * s^2 / 12), at 4
  // bits rounding dominates and it clips hard.
  const double t8 = s.threshold(opts(Calibrator::Mse), 8), t4 = s.threshold(opts(Calibrator::Mse), 4);
  EXPECT_LT(t8, 45.0);
  EXPECT_GT(t8, 15.0);
  EXPECT_LT(t4, 12.0);
}

TEST(Calibrate, MseKeepsTheFullRangeOfUniformData) {
  // With no tails, clipping only adds error: the MSE threshold stays at the top.
  std::vector<double> h(2048, 5.0);
  EXPECT_GT(quant::mse_threshold(h, 1.0, 8, false), 0.99);
  // Fewer bits move the optimum of a normal's |x| inwards (Banner et al. 2019: ~2.55 sigma at 4 bits
  // vs ~3.9 at 8 for a Gaussian; here in units of the histogram's top, 6 sigma).
  std::vector<double> g(2048);
  for (size_t i = 0; i < g.size(); ++i) {
    const double v = (i + 0.5) / g.size() * 6.0;
    g[i] = std::exp(-v * v / 2);
  }
  const double t4 = quant::mse_threshold(g, 6.0, 4, true), t8 = quant::mse_threshold(g, 6.0, 8, true);
  EXPECT_LT(t4, t8);
  EXPECT_NEAR(t4, 2.55, 0.35);
}

TEST(Calibrate, EntropyThresholdOfANormalIsInsideItsRange) {
  std::vector<double> g(2048);
  for (size_t i = 0; i < g.size(); ++i) {
    const double v = (i + 0.5) / g.size() * 8.0;
    g[i] = 1e6 * std::exp(-v * v / 2);
  }
  const double t = quant::entropy_threshold(g, 8.0, 8, true);
  EXPECT_GT(t, 2.5);
  EXPECT_LT(t, 7.0);
}

TEST(Calibrate, MseWeightClippingNeverLosesToMinMax) {
  torch::manual_seed(1);
  at::Tensor w = torch::randn({8, 16, 3, 3});
  w[0][0][0][0] = 12.0;
  for (int bits : {2, 4, 8}) {
    at::Tensor tm = quant::weight_thresholds(w, bits, true, "minmax"), te = quant::weight_thresholds(w, bits, true, "mse");
    EXPECT_TRUE((te <= tm + 1e-6).all().item<bool>());
    auto err = [&](const at::Tensor& t) {
      const double half = ((1 << (bits - 1)) - 1 + (1 << (bits - 1))) / 2.0;
      at::Tensor s = (t / half).view({8, 1, 1, 1});
      at::Tensor q = (w / s).round().clamp(-(1 << (bits - 1)), (1 << (bits - 1)) - 1) * s;
      return (w - q).pow(2).sum().item<double>();
    };
    EXPECT_LE(err(te), err(tm) + 1e-9) << bits << " bits";
  }
  EXPECT_LT(quant::weight_thresholds(w, 4, true, "mse")[0].item<double>(), 12.0);  // the outlier row is clipped
  EXPECT_THROW(quant::weight_thresholds(w, 4, true, "kl"), std::invalid_argument);
}

TEST(Calibrate, BadInputsAreNamed) {
  RangeStats s(true);
  EXPECT_THROW(s.threshold(opts(Calibrator::MinMax), 8), std::runtime_error);  // nothing observed
  at::Tensor x = torch::ones({4});
  x[2] = std::numeric_limits<float>::quiet_NaN();
  try {
    s.observe(x);
    FAIL() << "NaN accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("NaN"));
  }
  EXPECT_THROW(quant::calibrator_from_name("kl"), std::invalid_argument);
  EXPECT_EQ(quant::calibrator_from_name("entropy"), Calibrator::Entropy);
}
