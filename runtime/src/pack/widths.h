// Bit widths a lowered graph really uses: a layer's weights from the integer values in its int8
// tensor, its input activations from the clamp [lo, hi] of whatever quantized them. The packed file
// stores weights at these widths; the low-bit kernels are chosen from them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace qfrt {

// Storage kinds of int8 weight tensors, narrowest first. Ternary and binary need a zero point of 0.
// Pow2: every value is 0 or +-2^e with e in 0..6 (power-of-two weights, INQ / qforge's pow2 method, up
// to 4 bits exported as int8 QDQ), stored as 4-bit sign + exponent codes; it decodes to int8 and runs
// on the int8 kernels.
enum class WKind { Binary, Ternary, Int2, Int4, Pow2, Int8 };
int wkind_bits(WKind k);  // storage bits per weight
const char* wkind_name(WKind k);  // "binary", "ternary", "int2", "int4", "pow2", "int8"
bool wkind_from_name(const std::string& s, WKind& k);

// The narrowest kind that holds every value of an int8 tensor exactly (zp: its zero points, any count).
WKind weight_kind(const Tensor& w, const Tensor* zp);

// Dense codes along K, one byte-padded row per output channel ([M][K] with K = numel / M):
// int4 / int2 / ternary are two's-complement fields (element k at bit (k % per_byte) * bits of byte
// k / per_byte), binary is one bit per weight (1 = +1, 0 = -1), pow2 a 4-bit field: 0 for 0, else
// bit 3 the sign and bits 0-2 the exponent + 1 (code 8, "-0", decodes to 0).
int pow2_code(int8_t x);  // the pow2 field of x, or -1 when x is not 0 or +-2^e (e <= 6)
int64_t packed_row_bytes(WKind k, int64_t K);
std::vector<uint8_t> pack_codes(const int8_t* w, int64_t M, int64_t K, WKind k);
void unpack_codes(const uint8_t* p, int64_t M, int64_t K, WKind k, int8_t* w);

// Codebook indices (uint8, read by qf.CodebookDequantize) stored at 1 to 7 bits as a little-endian bit
// stream over the flattened tensor: element i at bits [i * bits, (i + 1) * bits), bit j of the stream
// being bit j % 8 of byte j / 8 (an element may straddle two bytes). Kind names "index1" ... "index7";
// index_bits_from_name returns 0 for any other name.
int index_bits_from_name(const std::string& kind);
int64_t packed_index_bytes(int bits, int64_t n);
std::vector<uint8_t> pack_indices(const uint8_t* idx, int64_t n, int bits);
void unpack_indices(const uint8_t* p, int64_t n, int bits, uint8_t* idx);

// Integer layers whose input 3 is the weight tensor: QLinearConv, qf.QConvToFloat, qf.QGemm.
bool is_weight_layer(const Node& n);

// Sets qf_w_bits / qf_w_kind (weight kind) and qf_x_bits / qf_x_lo / qf_x_hi (inputs lie in [qf_x_lo, qf_x_hi],
// qf_x_hi < qf_x_lo + 2^bits)
// on every integer layer with int8 weights; recomputed from the graph, never taken from a file.
void annotate_widths(Graph& g);

}  // namespace qfrt
