// levels[index] for up to 16 float levels with AVX-512: the levels sit in one register and vpermps
// picks 16 of them per instruction (a codebook activation's dequantization).
#pragma once
#include <cstdint>

namespace qfrt {

bool codebook_lookup16_supported();
// y[i] = levels[idx[i]] for i < n, L <= 16; false (y unspecified) when an index is >= L.
bool codebook_lookup16_avx512(const uint8_t* idx, int64_t n, const float* levels, int64_t L, float* y);

}  // namespace qfrt
