// QDQ form: a quantized graph rewritten the way ONNX Runtime and TensorRT expect quantized models.
// Each weight quantizer becomes an integer initializer (int8, or uint8 for unsigned grids) read by
// DequantizeLinear; each activation quantizer becomes QuantizeLinear -> DequantizeLinear, with a
// Clip in front when the grid is narrower than the 8-bit type (4-bit activations keep [0, 15]).
// Scales and zero points are the quantizers' own, so the file computes what qforge evaluated, up
// to rounding-boundary flips (QuantizeLinear divides by the scale; the fused fake-quant kernels
// multiply by its float reciprocal, as PyTorch's do).
#pragma once
#include "qforge/ir/graph.h"

namespace qforge::quant {

struct QdqOptions {
  // Codebook quantizers (lqnet, hwgq with Lloyd-Max levels, pow2 weights above 4 bits) become
  // ai.qforge CodebookQuantize(x, thresholds) -> uint8 index and CodebookDequantize(index, levels[, axis])
  // -> float nodes (weights: a uint8 index initializer) instead of an error. ONNX Runtime cannot run
  // them; the integer runtime's packed file stores the indices at their bit width.
  bool codebooks = false;
};

// Throws std::runtime_error naming the quantizer for: a quantizer that never saw data, a grid that
// is not uniform (codebooks unless options.codebooks, powers of two: the message says what to use
// instead), a zero point that is not an integer, widths above 8 bits, per-channel activation grids.
ir::Graph to_qdq(const ir::Graph& g, const QdqOptions& options = {});

}  // namespace qforge::quant
