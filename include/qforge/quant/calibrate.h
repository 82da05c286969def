// Range calibration for post-training quantization: statistics of a tensor edge collected over
// calibration batches, and the clipping threshold each calibrator picks from them.
//
// Calibrators (activations):
//   minmax      the largest magnitude seen (PyTorch's MinMaxObserver)
//   ema         moving average of each batch's min and max (MovingAverageMinMaxObserver, factor 0.01)
//   percentile  the given percentile of the magnitudes (e.g. 99.99)
//   mse         the threshold minimising the expected squared quantization error over the histogram
//   entropy     the threshold minimising KL(P || Q) between the clipped histogram and its quantized
//               version (the histogram method of TensorRT's int8 calibration, Migacz 2017)
// Signed edges get a symmetric range [-T, T] (statistics on |x|); unsigned edges [0, T] (on max(x, 0)).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace qforge::quant {

enum class Calibrator { MinMax, MovingAverage, Percentile, Mse, Entropy };
Calibrator calibrator_from_name(const std::string& name);  // throws std::invalid_argument listing names
const char* calibrator_name(Calibrator c);
// Calibrators that need a second pass over the data to fill a histogram.
bool needs_histogram(Calibrator c);

struct CalibratorOptions {
  Calibrator kind = Calibrator::MinMax;
  double percentile = 99.99;  // percentile: in (0, 100]
  double ema_factor = 0.01;   // ema: weight of each new batch (PyTorch's averaging_constant)
  int bins = 2048;            // histogram calibrators
};

// Statistics of one edge. Pass 1 (observe) tracks min/max, their moving average and per-channel
// means (dim 1, for bias correction); pass 2 (observe_histogram) bins the magnitudes over
// [0, max magnitude of pass 1].
class RangeStats {
 public:
  explicit RangeStats(bool is_signed, int bins = 2048, double ema_factor = 0.01)
      : signed_(is_signed), ema_factor_(ema_factor), hist_(bins, 0.0) {}
  void observe(const at::Tensor& x);
  void observe_histogram(const at::Tensor& x);

  bool empty() const { return batches_ == 0; }
  double max_magnitude() const;
  const std::vector<double>& histogram() const { return hist_; }
  // Mean of each channel (dim 1) over everything observed; empty for 1-D inputs.
  std::vector<double> channel_means() const;

  // The clipping threshold T (> 0) for a `bits`-wide grid.
  double threshold(const CalibratorOptions& o, int bits) const;

 private:
  bool signed_;
  double ema_factor_;
  int64_t batches_ = 0;
  double min_ = 0, max_ = 0, ema_min_ = 0, ema_max_ = 0;
  std::vector<double> hist_;
  std::vector<double> channel_sum_;
  double channel_count_ = 0;
};

// Threshold choice on a magnitude histogram over [0, hist_max] (exposed for tests).
double percentile_threshold(const std::vector<double>& hist, double hist_max, double percentile);
double mse_threshold(const std::vector<double>& hist, double hist_max, int bits, bool is_signed);
double entropy_threshold(const std::vector<double>& hist, double hist_max, int bits, bool is_signed);

// Per-output-channel (dim 0) clipping of a weight tensor for a symmetric signed grid: `minmax`
// gives max|w| per row, `mse` searches 100 fractions of it for the smallest squared error.
// Returns one threshold per row (a single one when !per_channel).
at::Tensor weight_thresholds(const at::Tensor& w, int bits, bool per_channel, const std::string& method);

}  // namespace qforge::quant
