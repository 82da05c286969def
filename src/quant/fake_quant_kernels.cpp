// The fake-quantization loops. Work is split into blocks of contiguous elements across OpenMP threads;
// within a block each run of one channel is a simple loop the compiler vectorizes. The hot functions
// are compiled twice (target_clones): for Haswell-class CPUs (AVX2 + FMA) and for baseline x86-64.
#include "fake_quant_kernels.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace qforge::quant::fq {

namespace {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define QF_CLONES __attribute__((target_clones("arch=haswell", "default")))
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
  double ds = 0, dz = 0;
#pragma omp simd reduction(+ : ds, dz)
  for (int64_t i = 0; i < n; ++i) {
    const float v = std::fma(x[i], inv, zp);  // PyTorch's zero_point + x * inv_scale, contracted as built
    const float q = QF_RINT(v);
    const bool below = !(q >= qmin) || q >= kTwo63;
    const bool above = !below && q > qmax;
    const float g = dy[i];
    dx[i] = (below || above) ? 0.f : g;
    const float fq = (std::min(q, qmax) - zp) * scale;  // only used inside the range
    const float ds_in = g * (fq - x[i]) * inv * gf;
    const float ds_out_v = (below ? g * small : g * big) * gf;
    ds += (below || above) ? ds_out_v : ds_in;
    dz += (below || above) ? -g * scale * gf : 0.f;
  }
  *ds_out += ds;
  *dz_out += dz;
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

}  // namespace qforge::quant::fq
