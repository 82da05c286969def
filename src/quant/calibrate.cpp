#include "qforge/quant/calibrate.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "grid.h"

namespace qforge::quant {

Calibrator calibrator_from_name(const std::string& name) {
  if (name == "minmax") return Calibrator::MinMax;
  if (name == "ema") return Calibrator::MovingAverage;
  if (name == "percentile") return Calibrator::Percentile;
  if (name == "mse") return Calibrator::Mse;
  if (name == "entropy") return Calibrator::Entropy;
  throw std::invalid_argument("calibrator \"" + name + "\" is not one of minmax, ema, percentile, mse, entropy");
}

const char* calibrator_name(Calibrator c) {
  switch (c) {
    case Calibrator::MinMax: return "minmax";
    case Calibrator::MovingAverage: return "ema";
    case Calibrator::Percentile: return "percentile";
    case Calibrator::Mse: return "mse";
    case Calibrator::Entropy: return "entropy";
  }
  return "?";
}

bool needs_histogram(Calibrator c) {
  return c == Calibrator::Percentile || c == Calibrator::Mse || c == Calibrator::Entropy;
}

namespace {
// The magnitudes a grid sees: |x| for a symmetric signed grid, max(x, 0) for an unsigned one.
at::Tensor magnitudes(const at::Tensor& x, bool is_signed) {
  at::Tensor f = x.detach().to(at::kFloat).contiguous();
  return is_signed ? f.abs() : f.clamp_min(0);
}

// Scale and largest code of the grid that clips at T (as the uniform method builds it).
struct MagnitudeGrid {
  double scale;
  double top;  // largest code on the magnitude side
};
MagnitudeGrid magnitude_grid(double t, int bits, bool is_signed) {
  const IntRange q = int_range(bits, is_signed);
  if (is_signed) return {t / ((q.qmax - q.qmin) / 2.0), static_cast<double>(q.qmax)};
  return {t / static_cast<double>(q.qmax), static_cast<double>(q.qmax)};
}
}  // namespace

void RangeStats::observe(const at::Tensor& x) {
  at::NoGradGuard g;
  at::Tensor f = x.detach().to(at::kFloat);
  const double lo = f.min().item<double>(), hi = f.max().item<double>();
  if (!std::isfinite(lo) || !std::isfinite(hi))
    throw std::runtime_error("the tensor holds NaN or infinite values (min " + std::to_string(lo) + ", max " +
                             std::to_string(hi) + ")");
  if (batches_ == 0) {
    min_ = ema_min_ = lo;
    max_ = ema_max_ = hi;
  } else {
    min_ = std::min(min_, lo);
    max_ = std::max(max_, hi);
    ema_min_ += ema_factor_ * (lo - ema_min_);
    ema_max_ += ema_factor_ * (hi - ema_max_);
  }
  ++batches_;
  if (f.dim() >= 2) {
    at::Tensor per_channel = f.transpose(0, 1).reshape({f.size(1), -1}).to(at::kDouble).sum(1);
    if (channel_sum_.empty()) channel_sum_.assign(f.size(1), 0.0);
    if (static_cast<int64_t>(channel_sum_.size()) != f.size(1))
      throw std::runtime_error("channel count changed between batches");
    auto acc = per_channel.accessor<double, 1>();
    for (int64_t c = 0; c < f.size(1); ++c) channel_sum_[c] += acc[c];
    channel_count_ += static_cast<double>(f.numel() / f.size(1));
  }
}

void RangeStats::observe_histogram(const at::Tensor& x) {
  at::NoGradGuard g;
  const double top = max_magnitude();
  if (top <= 0) return;  // all-zero edge: every threshold is the same
  at::Tensor h = at::histc(magnitudes(x, signed_).clamp_max(top), static_cast<int64_t>(hist_.size()), 0.0, top);
  auto acc = h.to(at::kDouble).contiguous();
  const double* p = acc.data_ptr<double>();
  for (size_t i = 0; i < hist_.size(); ++i) hist_[i] += p[i];
}

double RangeStats::max_magnitude() const { return signed_ ? std::max(-min_, max_) : std::max(max_, 0.0); }

std::vector<double> RangeStats::channel_means() const {
  std::vector<double> m(channel_sum_.size(), 0.0);
  for (size_t c = 0; c < m.size(); ++c) m[c] = channel_count_ > 0 ? channel_sum_[c] / channel_count_ : 0.0;
  return m;
}

double RangeStats::threshold(const CalibratorOptions& o, int bits) const {
  if (batches_ == 0) throw std::runtime_error("no calibration data reached this edge");
  const double top = max_magnitude();
  double t = top;
  switch (o.kind) {
    case Calibrator::MinMax: break;
    case Calibrator::MovingAverage:
      t = signed_ ? std::max(-ema_min_, ema_max_) : std::max(ema_max_, 0.0);
      break;
    case Calibrator::Percentile: t = percentile_threshold(hist_, top, o.percentile); break;
    case Calibrator::Mse: t = mse_threshold(hist_, top, bits, signed_); break;
    case Calibrator::Entropy: t = entropy_threshold(hist_, top, bits, signed_); break;
  }
  return std::max(t, 1e-8);
}

double percentile_threshold(const std::vector<double>& hist, double hist_max, double percentile) {
  if (!(percentile > 0 && percentile <= 100)) throw std::invalid_argument("percentile must be in (0, 100]");
  double total = 0;
  for (double c : hist) total += c;
  if (total <= 0) return hist_max;
  const double width = hist_max / static_cast<double>(hist.size());
  const double want = total * percentile / 100.0;
  double cum = 0;
  for (size_t i = 0; i < hist.size(); ++i) {
    if (cum + hist[i] >= want) {
      // Interpolate inside the bin so thresholds do not jump by a whole bin width.
      const double frac = hist[i] > 0 ? (want - cum) / hist[i] : 1.0;
      return (static_cast<double>(i) + frac) * width;
    }
    cum += hist[i];
  }
  return hist_max;
}

double mse_threshold(const std::vector<double>& hist, double hist_max, int bits, bool is_signed) {
  const size_t n = hist.size();
  const double width = hist_max / static_cast<double>(n);
  double best_t = hist_max, best_err = std::numeric_limits<double>::infinity();
  // Candidates: every bin edge in the upper 7/8 of the range (a threshold far below the mass only
  // clips); the error of each bin is taken at its centre.
  for (size_t k = n / 8; k <= n; ++k) {
    const double t = static_cast<double>(k) * width;
    if (t <= 0) continue;
    const MagnitudeGrid g = magnitude_grid(t, bits, is_signed);
    double err = 0;
    for (size_t i = 0; i < n && err < best_err; ++i) {
      if (hist[i] == 0) continue;
      const double v = (static_cast<double>(i) + 0.5) * width;
      const double q = std::min(std::nearbyint(v / g.scale), g.top) * g.scale;
      err += hist[i] * (v - q) * (v - q);
    }
    if (err < best_err) best_err = err, best_t = t;
  }
  return best_t;
}

double entropy_threshold(const std::vector<double>& hist_in, double hist_max, int bits, bool is_signed) {
  // The first bin holds every exact zero (all of a ReLU's negative inputs): left as it is, that spike
  // dominates both distributions and KL prefers tiny ranges. TensorRT's calibrator (and NVIDIA's
  // pytorch-quantization) give it the count of its neighbour instead.
  std::vector<double> hist = hist_in;
  if (hist.size() > 1) hist[0] = hist[1];
  const size_t n = hist.size();
  const size_t levels = size_t{1} << (is_signed ? bits - 1 : bits);
  if (n <= levels) return hist_max;
  const double width = hist_max / static_cast<double>(n);
  double best_kl = std::numeric_limits<double>::infinity();
  size_t best_i = n;
  std::vector<double> p, q;
  for (size_t i = levels; i <= n; ++i) {
    // P: the first i bins with everything beyond folded into the last one (clipping).
    p.assign(hist.begin(), hist.begin() + static_cast<long>(i));
    double outliers = 0;
    for (size_t j = i; j < n; ++j) outliers += hist[j];
    p[i - 1] += outliers;
    // Q: the first i bins merged into `levels` groups, each group's mass spread evenly over its
    // non-empty bins (what the quantized tensor can represent).
    q.assign(i, 0.0);
    const double per = static_cast<double>(i) / static_cast<double>(levels);
    for (size_t l = 0; l < levels; ++l) {
      const size_t b = static_cast<size_t>(std::floor(l * per));
      const size_t e = l + 1 == levels ? i : static_cast<size_t>(std::floor((l + 1) * per));
      double mass = 0;
      size_t nonzero = 0;
      for (size_t j = b; j < e; ++j)
        if (hist[j] != 0) mass += hist[j], ++nonzero;
      if (nonzero == 0) continue;
      for (size_t j = b; j < e; ++j)
        if (hist[j] != 0) q[j] = mass / static_cast<double>(nonzero);
    }
    double sp = 0, sq = 0;
    for (size_t j = 0; j < i; ++j) sp += p[j], sq += q[j];
    if (sp <= 0 || sq <= 0) continue;
    double kl = 0;
    for (size_t j = 0; j < i; ++j) {
      if (p[j] == 0) continue;
      const double pj = p[j] / sp;
      // A bin P has and Q lacks (the folded outliers' bin can be empty in Q): a small floor keeps KL finite.
      const double qj = q[j] > 0 ? q[j] / sq : 1e-12;
      kl += pj * std::log(pj / qj);
    }
    if (kl <= best_kl) best_kl = kl, best_i = i;  // ties: the widest range, as TensorRT picks
  }
  return static_cast<double>(best_i) * width;
}

at::Tensor weight_thresholds(const at::Tensor& w, int bits, bool per_channel, const std::string& method) {
  at::NoGradGuard g;
  at::Tensor f = per_channel ? w.detach().to(at::kFloat).flatten(1) : w.detach().to(at::kFloat).reshape({1, -1});
  at::Tensor amax = std::get<0>(f.abs().max(1)).clamp_min(1e-8);
  if (method == "minmax") return amax;
  if (method != "mse") throw std::invalid_argument("weight calibrator \"" + method + "\" is not one of minmax, mse");
  const IntRange q = int_range(bits, true);
  const double half = (q.qmax - q.qmin) / 2.0;
  at::Tensor best = amax.clone();
  at::Tensor best_err = at::full_like(amax, std::numeric_limits<float>::infinity());
  for (int k = 0; k < 100; ++k) {
    const double frac = 1.0 - 0.005 * k;  // 1.0 down to 0.505
    at::Tensor t = amax * frac;
    at::Tensor s = (t / half).unsqueeze(1);
    at::Tensor wq = (f / s).round().clamp(q.qmin, q.qmax) * s;
    at::Tensor err = (f - wq).pow(2).sum(1);
    at::Tensor better = err < best_err;
    best = at::where(better, t, best);
    best_err = at::where(better, err, best_err);
  }
  return best;
}

}  // namespace qforge::quant
