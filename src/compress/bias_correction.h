// Empirical bias correction (Nagel et al. 2019, "Data-Free Quantization", section 4.2 with the
// input means measured on calibration data): weight quantization shifts a layer's expected output
// by (W_q - W) E[x]; subtracting that shift from the bias restores E[y] per output channel.
#pragma once
#include <map>
#include <string>

#include "qforge/quant/calibrate.h"

namespace qforge::exec {
class GraphModule;
}

namespace qforge::compress {

// For every Conv / Gemm whose weight and input are both quantized and that has a bias: bias -=
// (W_q - W) . mean(input channel). `input_stats` are keyed by activation quantizer name. Returns
// how many layers it corrected.
int correct_biases(exec::GraphModule& m, const std::map<std::string, quant::RangeStats>& input_stats);

}  // namespace qforge::compress
