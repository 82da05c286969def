// qforge bench fakequant: forward + backward time of the fused fake-quantization ops on one activation
// tensor, as training calls them (through autograd). bench/fake_quant_vs_pytorch.sh runs PyTorch's ops
// on the same shape beside it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "commands.h"
#include "qforge/quant/config.h"
#include "qforge/quant/fake_quant.h"
#include "qforge/quant/method.h"
#include "qforge/train/trainer.h"

namespace qforge::cli {

namespace {
// Median milliseconds of forward + backward of `op` on a fresh leaf copy of x.
template <typename Op>
double median_ms(const at::Tensor& x0, const at::Tensor& dy, int warmup, int reps, Op op) {
  std::vector<double> ms;
  for (int i = 0; i < warmup + reps; ++i) {
    at::Tensor x = x0.detach().requires_grad_(true);
    auto t0 = std::chrono::steady_clock::now();
    op(x).backward(dy);
    const double t = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (i >= warmup) ms.push_back(t);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}
}  // namespace

Command add_bench_fake_quant(CLI::App& bench) {
  auto* c = bench.add_subcommand("fakequant",
                                 "Median forward+backward time of the fused fake-quant ops (affine, lsq, pact) on one "
                                 "activation tensor.");
  struct Args {
    std::vector<int64_t> shape{128, 16, 28, 28};
    int bits = 4, reps = 50, warmup = 5, threads = 0;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  c->add_option("--shape", a->shape, "tensor shape (default 128 16 28 28: ResNet-20's first activations at batch 128)");
  c->add_option("--bits", a->bits, "bit width, unsigned activations (default 4)")->check(CLI::Range(2, 8));
  c->add_option("--reps", a->reps, "timed repetitions (default 50)")->check(CLI::PositiveNumber);
  c->add_option("--warmup", a->warmup, "untimed repetitions first (default 5)")->check(CLI::NonNegativeNumber);
  c->add_option("--threads", a->threads, "threads (default: all cores)")->check(CLI::NonNegativeNumber);
  c->add_flag("--json", a->json, "print the result as one JSON object on stdout");
  return [a] {
    const int threads = train::configure_threads(a->threads);
    torch::manual_seed(0);
    const at::Tensor x = at::randn(a->shape).abs_();  // post-ReLU-like
    const at::Tensor dy = at::randn(a->shape);
    const int64_t qmax = (int64_t{1} << a->bits) - 1;
    const at::Tensor scale = at::full({1}, 3.0 / static_cast<double>(qmax));
    const at::Tensor zp = at::zeros({1});
    const double gf = 1.0 / std::sqrt(static_cast<double>(x.numel()) * static_cast<double>(qmax));
    const at::Tensor lsq_scale = scale.clone().requires_grad_(true), lsq_zp = zp.clone().requires_grad_(true);

    quant::QuantizerConfig pc;
    pc.method = "pact";
    pc.bits = a->bits;
    pc.is_signed = false;
    pc.options = quant::method("pact").default_options();
    pc.options["alpha_init"] = 3.0;
    const quant::QuantMethod& pact = quant::method("pact");
    std::vector<at::Tensor> alpha{at::full({}, 3.0).requires_grad_(true)};

    nlohmann::json res = {{"shape", a->shape}, {"bits", a->bits}, {"threads", threads}, {"reps", a->reps}};
    res["affine_ms"] = median_ms(x, dy, a->warmup, a->reps, [&](const at::Tensor& t) {
      return quant::fake_quant_affine(t, scale, zp, 0, qmax);
    });
    res["lsq_ms"] = median_ms(x, dy, a->warmup, a->reps, [&](const at::Tensor& t) {
      return quant::lsq_fake_quant(t, lsq_scale, lsq_zp, 0, qmax, -1, gf);
    });
    res["pact_ms"] = median_ms(x, dy, a->warmup, a->reps, [&](const at::Tensor& t) {
      return pact.forward(t, pc, quant::Role::Activation, alpha, true);
    });
    if (a->json) std::printf("%s\n", res.dump().c_str());
    else
      std::printf("fake-quant forward+backward, %lld elements, %d bits, %d threads: affine %.3f ms, lsq %.3f ms, "
                  "pact %.3f ms (medians of %d)\n",
                  static_cast<long long>(x.numel()), a->bits, threads, res["affine_ms"].get<double>(),
                  res["lsq_ms"].get<double>(), res["pact_ms"].get<double>(), a->reps);
    return 0;
  };
}

}  // namespace qforge::cli
