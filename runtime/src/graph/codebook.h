// Codebook quantization (qforge's ai.qforge CodebookQuantize / CodebookDequantize): how a packed file
// carries methods whose levels are not an integer grid (LQ-Nets' learned basis, HWGQ's Lloyd-Max
// levels). An index is a byte; the packed file stores indices at 1, 2 or 4 bits (pack/widths.h).
#pragma once
#include "graph/graph.h"

namespace qfrt {

// levels[index] as float32: levels [L] for every element, or [C, L] with row c for the elements whose
// coordinate along axis (attribute, default 0) is c. Throws naming the node for an index >= L or
// levels that do not fit the index tensor.
Tensor codebook_dequantize(const Node& n, const Tensor& index, const Tensor& levels);

// uint8 count(thresholds < x) per element, thresholds ascending (at most 255): ties and values on a
// boundary go to the lower level, NaN to level 0, as qforge's evaluation rounds. With lut (uint8 or
// int8, one entry per level) the output is lut[count] in lut's type.
Tensor codebook_quantize(const Node& n, const Tensor& x, const Tensor& thresholds, const Tensor* lut = nullptr);

// Puts codebook layers on the int8 kernels (QFORGE_RT_CODEBOOK=int8 at load): each
// constant CodebookDequantize of weights becomes DequantizeLinear of int8 values round(w / s) with
// s = max |level| / 127 per output channel, and each activation CodebookQuantize -> CodebookDequantize
// pair a CodebookQuantize that looks its level up on an 8-bit grid (uint8 with s = max level / 255 when
// no level is negative, else int8 with s = max |level| / 127) -> DequantizeLinear; lowering then turns
// the layers into integer ones. Every level moves by at most s / 2 (1/510 of the largest for
// unsigned activations), so results equal the float path's up to rounding flips, not bit for bit; at 2-3
// activation bits those flips compound over depth (ResNet-20 on Fashion-MNIST: 3-4% of predictions
// change, top-1 moves by up to 0.2 points), hence opt-in. Returns the number of nodes rewritten.
// exact: only codebooks whose levels are integer multiples of one step, float for float (binary {-1, 1} or
// {0, a}, ternary, uniform ones), each on the grid of that step, so no value moves; the default at load,
// which puts XNOR-Net's sign activations on the XNOR kernels.
int codebooks_to_int8(Graph& g, bool exact = false);

// QFORGE_RT_CODEBOOK: "exact" (default: codebooks an integer grid holds exactly go onto it, the others run
// in float on their levels), "float" (every codebook layer in float) or "int8" (every one on int8 grids).
enum class CodebookMode { Exact, Float, Int8 };
CodebookMode codebook_mode_from_env();

}  // namespace qfrt
