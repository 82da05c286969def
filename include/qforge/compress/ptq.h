// Post-training quantization: a float graph and a few hundred calibration images in, a graph with
// calibrated FakeQuant nodes (method uniform, ranges fixed) out. No labels, no training.
//
// Steps: fold BatchNorm into the convolutions; insert quantizers on every Conv/Gemm/MatMul weight
// and input (first and last layer at 8 bits when narrower widths are asked for); run the float
// network over the calibration set and pick each activation range with the chosen calibrator
// (quant/calibrate.h); clip weights per channel (min/max or MSE); optionally correct each layer's
// bias for the mean shift its weight quantization causes (Nagel et al. 2019, empirical form);
// optionally learn each weight's rounding direction first (AdaRound, adaround.h).
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "qforge/compress/adaround.h"
#include "qforge/compress/cle.h"
#include "qforge/ir/graph.h"
#include "qforge/quant/calibrate.h"
#include "qforge/quant/insert.h"

namespace qforge::data {
class DataLoader;
}

namespace qforge::compress {

struct PtqOptions {
  int weight_bits = 8;      // 2..8
  int activation_bits = 8;  // 2..16
  bool per_channel = false;            // one weight scale per output channel
  quant::CalibratorOptions calibrator;  // activations inside the network
  // The network input (the image): bounded and often discrete (8-bit pixels), where clipping removes
  // image content rather than outliers; min/max by default whatever `calibrator` is.
  quant::Calibrator input_calibrator = quant::Calibrator::MinMax;
  // Per activation quantizer (its node name, as `qforge inspect` lists it: layer1.0.conv1.aq): a calibrator
  // other than `calibrator` for that one range, e.g. min/max where a method misjudges one tensor (KL entropy
  // on a stem output whose constant background makes spikes). A name that is no activation quantizer of the
  // model is an error.
  std::map<std::string, quant::Calibrator> calibrator_overrides;
  std::string weight_calibrator = "minmax";  // minmax | mse
  bool fold_batchnorm = true;
  bool cle = false;  // cross-layer equalization (compress/cle.h) after BatchNorm folding
  CleOptions cle_options;
  bool bias_correction = false;
  bool adaround = false;  // learned rounding of the weights (compress/adaround.h), before bias correction
  AdaRoundOptions adaround_options;
  // Layers left in float (node names, or first / last), and the width of first/last when they
  // are not kept float but the requested widths are below 8.
  std::vector<std::string> keep_float;
  int first_last_bits = 8;
  // Quantizers on the inputs and output of residual Adds too (quantize.adds, as PyTorch FX quantizes
  // add / add_relu): the deployed residual stream is integer instead of float.
  bool quantize_adds = false;
  bool quiet = false;  // no progress on stderr
};

struct PtqResult {
  ir::Graph graph;  // calibrated, ready to evaluate, export or fine-tune
  std::vector<quant::QuantizedLayer> layers;
  int folded_batchnorms = 0;
  CleResult cle;
  int64_t calibration_images = 0;
  double seconds = 0;
  nlohmann::json to_json() const;
};

// A recipe's ptq: section (the keys mirror `qforge ptq`'s options, snake_case):
//   ptq: {weights: 4, activations: 8, per_channel: true, calibrator: percentile, percentile: 99.99,
//         input_calibrator: minmax, calibrator_overrides: {layer1.0.conv1.aq: minmax}, weight_calibrator: mse, bias_correction: true, adaround: false,
//         adaround_iterations: 1000, fold_batchnorm: true, cle: false, cle_relu6: clip, keep_float: [], first_last_bits: 8, quantize_adds: false,
//         calib: 512, batch_size: 64}
// Absent keys keep the defaults above (PtqOptions). Throws std::runtime_error naming "<key>.<name>" on an
// unknown key, a wrong type or a value out of range. `calib` / `batch_size` go to the last two arguments.
PtqOptions parse_ptq_section(const YAML::Node& node, const std::string& key, int64_t* calib, int* batch_size);

// The recipe quantize: section PTQ applies (stored in the output checkpoint's recipe).
YAML::Node ptq_quantize_section(const PtqOptions& o);

// Throws std::runtime_error for: a graph that already holds quantizers, bit widths out of range,
// an empty calibration set, non-finite activations (naming the node).
PtqResult run_ptq(ir::Graph g, data::DataLoader& calibration, const PtqOptions& o);

}  // namespace qforge::compress
