// The fake-quantization loops. Work is split into blocks of contiguous elements across OpenMP threads;
// within a block each run of one channel is a simple loop the compiler vectorizes. The hot functions
// are compiled three times (target_clones), picked at load time by what the CPU supports: x86-64-v4
// (AVX-512), x86-64-v3 (AVX2 + FMA) and baseline x86-64. ("arch=haswell" would be picked only on an
// Intel Haswell-family CPU, by model, and left AMD CPUs on the scalar baseline: 20x slower.)
// CMakeLists.txt builds this file with -ffp-contract=off so every clone rounds as PyTorch does.
#include "fake_quant_kernels.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace qforge::quant::fq {

namespace {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define QF_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define QF_CLONES
#endif

constexpr int64_t kBlock = 16384;
constexpr float kTwo63 = 9.2233720368547758e18f;  // float -> int64 overflows from here (gives INT64_MIN)

// Round half to even, exact: for |v| < 2^23 adding and removing 1.5 * 2^23 rounds in the FPU's default
// mode (nearbyint's); larger floats are integers already. Written inline in each loop so it vectorizes
// (nearbyintf does not on baseline x86-64).
#define QF_RINT(v) (std::fabs(v) < 8388608.f ? ((v) + 12582912.f) - 12582912.f : (v))

// Calls body(channel, begin, end) for every run of one channel inside every block, blocks in parallel.
template <typename Body>
void for_runs(const Shape& s, int threads, Body body) {
  const int64_t n = s.numel();
  const int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) num_threads(threads) if (blocks > 1)
  for (int64_t b = 0; b < blocks; ++b) {
    int64_t pos = b * kBlock;
    const int64_t end = std::min(n, pos + kBlock);
    while (pos < end) {
      const int64_t row = pos / s.inner;
      const int64_t run_end = std::min(end, (row + 1) * s.inner);
      body(row % s.channels, pos, run_end);
      pos = run_end;
    }
  }
}

QF_CLONES void affine_forward_run(const float* x, float* y, int64_t n, float scale, float inv, float zp, float qmin,
                                  float qmax) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i] * inv;
    const float q = zp + QF_RINT(v);
    const float c = (q >= qmin && q < kTwo63) ? std::min(q, qmax) : qmin;
    y[i] = (c - zp) * scale;
  }
}

QF_CLONES void affine_backward_run(const float* x, const float* dy, float* dx, int64_t n, float inv, float zp,
                                   float qmin, float qmax) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i] * inv;
    const float q = zp + QF_RINT(v);
    dx[i] = (q >= qmin && q <= qmax) ? dy[i] : 0.f;
  }
}

// Returns {sum dscale, sum dzero_point} of the run.
QF_CLONES void lsq_backward_run(const float* x, const float* dy, float* dx, int64_t n, float scale, float inv,
                                float zp, float qmin, float qmax, float gf, double* ds_out, double* dz_out) {
  const float small = qmin - zp, big = qmax - zp;
  // Sums in float over short chunks, so the loop is branch-free and vectorizes at full width; each chunk's
  // sum goes into a double, so long runs keep their precision. The constant factors (1/scale, the gradient
  // scale) multiply the chunk sums, not each element.
  constexpr int64_t kChunk = 256;
  double ds = 0, dz = 0;
  for (int64_t c0 = 0; c0 < n; c0 += kChunk) {
    const int64_t c1 = std::min(n, c0 + kChunk);
    float ds_in = 0, ds_clip = 0, dz_clip = 0;
#pragma omp simd reduction(+ : ds_in, ds_clip, dz_clip)
    for (int64_t i = c0; i < c1; ++i) {
      const float v = std::fma(x[i], inv, zp);  // PyTorch's zero_point + x * inv_scale, contracted as built
      const float q = QF_RINT(v);
      const bool below = !(q >= qmin) || q >= kTwo63;
      const bool inside = !below && q <= qmax;
      const float g = dy[i];
      dx[i] = inside ? g : 0.f;
      const float fq = (q - zp) * scale;  // only used inside the range
      ds_in += inside ? g * (fq - x[i]) : 0.f;
      ds_clip += inside ? 0.f : g * (below ? small : big);
      dz_clip += inside ? 0.f : g;
    }
    ds += (static_cast<double>(ds_in) * inv + ds_clip) * gf;
    dz -= static_cast<double>(dz_clip) * scale * gf;
  }
  *ds_out += ds;
  *dz_out += dz;
}

// y = nearbyint(clamp(x, lo, hi) * mul) * step. NaN propagates, as at::clamp does.
QF_CLONES void clipped_round_run(const float* x, float* y, int64_t n, float lo, float hi, float mul, float step) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float c = x[i] < lo ? lo : (x[i] > hi ? hi : x[i]);
    const float v = c * mul;
    y[i] = QF_RINT(v) * step;
  }
}

QF_CLONES void window_backward_run(const float* x, const float* dy, float* dx, int64_t n, float lo, float hi) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dx[i] = (x[i] >= lo && x[i] <= hi) ? dy[i] : 0.f;
}

// PACT's straight-through gradients: dx = dy inside (lo, alpha) (lo included when unsigned); dalpha sums
// dy where x >= alpha and, signed, subtracts dy where x <= -alpha. Chunked float sums, as in LSQ's.
QF_CLONES double pact_backward_run(const float* x, const float* dy, float* dx, int64_t n, float alpha,
                                   bool is_signed) {
  const float lo = is_signed ? -alpha : 0.f;
  constexpr int64_t kChunk = 256;
  double da = 0;
  for (int64_t c0 = 0; c0 < n; c0 += kChunk) {
    const int64_t c1 = std::min(n, c0 + kChunk);
    float part = 0;
#pragma omp simd reduction(+ : part)
    for (int64_t i = c0; i < c1; ++i) {
      const float g = dy[i];
      const bool low_ok = is_signed ? x[i] > lo : x[i] >= lo;
      dx[i] = (low_ok && x[i] < alpha) ? g : 0.f;
      part += x[i] >= alpha ? g : ((is_signed && x[i] <= lo) ? -g : 0.f);
    }
    da += part;
  }
  return da;
}

}  // namespace

void affine_forward(const float* x, float* y, const Shape& s, const Params& p) {
  for_runs(s, p.threads, [&](int64_t c, int64_t b, int64_t e) {
    affine_forward_run(x + b, y + b, e - b, p.scale[c], p.inv_scale[c], p.zero_point[c], p.qmin, p.qmax);
  });
}

void affine_backward(const float* x, const float* dy, float* dx, const Shape& s, const Params& p) {
  for_runs(s, p.threads, [&](int64_t c, int64_t b, int64_t e) {
    affine_backward_run(x + b, dy + b, dx + b, e - b, p.inv_scale[c], p.zero_point[c], p.qmin, p.qmax);
  });
}

void lsq_backward(const float* x, const float* dy, float* dx, double* dscale, double* dzero_point, const Shape& s,
                  const Params& p, float grad_factor) {
  // Thread-local partial sums per channel, combined in thread order: deterministic for a thread count.
  const int threads = std::max(1, p.threads);
  const auto C = static_cast<size_t>(s.channels);
  std::vector<double> part(static_cast<size_t>(threads) * 2 * C, 0.0);
  for_runs(s, threads, [&](int64_t c, int64_t b, int64_t e) {
    double* mine = part.data() + static_cast<size_t>(omp_get_thread_num()) * 2 * C;
    lsq_backward_run(x + b, dy + b, dx + b, e - b, p.scale[c], p.inv_scale[c], p.zero_point[c], p.qmin, p.qmax,
                     grad_factor, mine + c, mine + C + static_cast<size_t>(c));
  });
  for (size_t c = 0; c < C; ++c) {
    dscale[c] = 0;
    dzero_point[c] = 0;
    for (int t = 0; t < threads; ++t) {
      dscale[c] += part[static_cast<size_t>(t) * 2 * C + c];
      dzero_point[c] += part[static_cast<size_t>(t) * 2 * C + C + c];
    }
  }
}

void clipped_round(const float* x, float* y, int64_t n, float lo, float hi, float mul, float step, int threads) {
  for_runs(Shape{1, 1, n}, threads, [&](int64_t, int64_t b, int64_t e) {
    clipped_round_run(x + b, y + b, e - b, lo, hi, mul, step);
  });
}

void window_backward(const float* x, const float* dy, float* dx, int64_t n, float lo, float hi, int threads) {
  for_runs(Shape{1, 1, n}, threads, [&](int64_t, int64_t b, int64_t e) {
    window_backward_run(x + b, dy + b, dx + b, e - b, lo, hi);
  });
}

double pact_backward(const float* x, const float* dy, float* dx, int64_t n, float alpha, bool is_signed,
                     int threads) {
  threads = std::max(1, threads);
  std::vector<double> part(static_cast<size_t>(threads), 0.0);
  for_runs(Shape{1, 1, n}, threads, [&](int64_t, int64_t b, int64_t e) {
    part[static_cast<size_t>(omp_get_thread_num())] += pact_backward_run(x + b, dy + b, dx + b, e - b, alpha, is_signed);
  });
  double total = 0;
  for (double v : part) total += v;  // in thread order: deterministic for a thread count
  return total;
}

}  // namespace qforge::quant::fq
