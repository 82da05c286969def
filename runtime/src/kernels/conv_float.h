// Float GEMM for the float Conv (layers a model keeps float, codebook layers): y[m][p] = bias[m] +
// sum_k w[m][k] col[k][p], the terms added in k order, each product rounded before it is added (no
// FMA; conv_float.cpp is built with -ffp-contract=off). With col an im2col in (c, i, j) order the
// result is, bit for bit, the direct per-output sum the scalar Conv computes.
#pragma once
#include <cstdint>

namespace qfrt {

// True when the CPU runs the AVX-512 kernel below.
bool conv_float_avx512_supported();

// Rows [m0, m1) of y ([M][P], row-major), w [M][K], col [K][P], bias [M] or null. Register tiles of 4
// rows x 64 columns, masked at the edges.
void conv_float_gemm_avx512(const float* w, const float* bias, const float* col, int64_t K, int64_t P, int64_t m0, int64_t m1, float* y);

}  // namespace qfrt
