// A readable summary of every quantizer in a graph (for `qforge inspect` and reports): which edge it
// quantizes, its method and configuration, and its current grid (scale / zero point or levels).
#pragma once
#include <nlohmann/json.hpp>

#include "qforge/ir/graph.h"

namespace qforge::quant {

// One JSON object per FakeQuant node, in graph order: node, input, role, method, bits, signed,
// granularity ("per-tensor" / "per-channel"), initialized (whether it has seen data), grid ("uniform",
// "codebook" or "power-of-two") and a summary of its state: scale (one value, or min/mean/max over
// channels), zero_point, levels (up to 16 of the first channel's). Throws naming the node if a
// quantizer's state is missing from the graph.
nlohmann::json describe_quantizers(const ir::Graph& g);

// Bytes the model takes once deployed: each quantized weight at its bit width (packed), plus its
// grid (scale and zero point, or levels, as float32); every other initializer at its own size;
// quantizer-internal state (running ranges, flags, learned clipping values) not at all.
int64_t deployed_size_bytes(const ir::Graph& g);

}  // namespace qforge::quant
