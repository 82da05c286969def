// AdaRound (Nagel et al. 2020, "Up or Down? Adaptive Rounding for Post-Training Quantization"): for each
// quantized Conv / Gemm in turn, learns whether each weight rounds up or down so the layer's output on
// calibration data stays close to the float output, instead of rounding to nearest.
//   W~ = s * clamp(floor(W / s) + h(V), qmin, qmax),  h(V) = clamp(sigmoid(V) * (zeta - gamma) + gamma, 0, 1)
//   loss = || f(x; W) - f(x; W~) ||^2 + lambda * sum(1 - |2 h(V) - 1|^beta),  beta annealed 20 -> 2
// with zeta = 1.1, gamma = -0.1, V started so that h(V) equals the fractional part of W / s. At the end
// every h is rounded to 0 or 1 and the weights are written back on the grid, so the (calibrated) weight
// quantizer reproduces them exactly. The reconstruction is the paper's asymmetric form with the activation
// function (its eq. 25): the target f_a(W x) takes x and W from the float network, the learned side
// f_a(W~ x^) takes x^ from the quantized one (earlier layers already rounded, activations quantized), and
// f_a is the activation that follows the layer, if one does: ReLU or ReLU6 (Clip), and the per-channel clip (Min)
// that cross-layer equalization leaves after a ReLU. Measured on the 30-epoch ResNet-20
// (docs/RESULTS.md): W3A8 -1.70 -> -0.13 points against the layer-wise form with float inputs and no ReLU.
//
// A long run can be resumed: with progress_path set, the rounded weights of the layers done so far (and the
// random generator's state) are written there after each layer, atomically; a later call with the same
// model, calibration and options restores them and goes on with the next layer, giving the weights an
// uninterrupted run gives. A progress file from another run (other layers, other weight or input grids, other
// options) is reported and ignored.
#pragma once
#include <cstdint>
#include <string>

namespace qforge::exec {
class GraphModule;
}
namespace qforge::data {
class DataLoader;
}

namespace qforge::compress {

struct AdaRoundOptions {
  int iterations = 1000;  // per layer
  int64_t batch_size = 32;
  double lr = 1e-3;       // Adam on V
  double reg = 0.01;      // lambda
  double warmup = 0.2;    // share of iterations without the rounding regularizer
  double beta_start = 20, beta_end = 2;
  uint64_t seed = 0;
  bool quiet = false;
  std::string progress_path;  // "" = no progress file (see above)
  int max_layers = -1;        // round at most this many more layers in this call (-1: all); tests stop a run with it
};

// Needs calibrated weight quantizers (ranges fixed) and activation quantizers on the layer inputs.
// Returns how many layers are rounded (resumed ones included).
int adaround(exec::GraphModule& m, data::DataLoader& calibration, const AdaRoundOptions& o);

}  // namespace qforge::compress
