// QDQ -> integer rewrites on a loaded graph (see lower_qdq.cpp for the patterns). What is left
// runs in float, so any valid QDQ file runs; only the recognized patterns run in integers.
#pragma once
#include <map>
#include <string>

#include "graph/graph.h"

namespace qfrt {

// fold_weights = false keeps DequantizeLinear of constant int8 tensors (weights of layers that stay
// float) as nodes, so a packed file stores those weights at their width; fold_constant_dequantize
// folds them into float initializers at load, as lower_qdq would have.
void lower_qdq(Graph& g, bool fold_weights = true);
void fold_constant_dequantize(Graph& g);
// Rewrite 9 (lower_qdq.cpp; 8 is annotate_widths in runtime/README.md's list), applied at load after both and
// not stored in a .qfp: a QuantizeLinear reading a qf.QConvToFloat becomes the conv's second output.
void fuse_output_quantize(Graph& g);
// Rewrite 10, at load likewise: a qf.QChannelMin reading a QLinearConv (its only reader) becomes the conv's
// per-channel upper clamp (attribute qf_channel_hi, one code per output channel), so the bound costs no pass.
void fuse_channel_clip(Graph& g);

// Data ops that quantization commutes with (it is monotonic and per-tensor): Q can move above them and
// DQ below them, so they run on the integers.
bool commutes_with_quantization(const std::string& op);

// Node count per op type (after lowering: shows what runs in integers and what in float).
std::map<std::string, int> op_histogram(const Graph& g);

}  // namespace qfrt
