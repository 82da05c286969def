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
// boundary go to the lower level, NaN to level 0, as qforge's evaluation rounds.
Tensor codebook_quantize(const Node& n, const Tensor& x, const Tensor& thresholds);

}  // namespace qfrt
