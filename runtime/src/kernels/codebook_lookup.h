// levels[index] for up to 16 float levels with AVX-512: the levels sit in one register and vpermps
// picks 16 of them per instruction (a codebook activation's dequantization).
#pragma once
#include <cstdint>

namespace qfrt {

bool codebook_lookup16_supported();
// y[i] = levels[idx[i]] for i < n, L <= 16; false (y unspecified) when an index is >= L.
bool codebook_lookup16_avx512(const uint8_t* idx, int64_t n, const float* levels, int64_t L, float* y);

// The other direction, a codebook activation's quantization: y[i] = table[count(t[k] < x[i])] for T <= 15
// ascending thresholds (NaN counts 0), 16 values per step: T compares into one counter register, vpermd
// through the table, vpmovdb to bytes. Same results as the scalar count, bit for bit.
void codebook_count16_avx512(const float* x, int64_t n, const float* t, int64_t T, const uint8_t* table, uint8_t* y);

}  // namespace qfrt
