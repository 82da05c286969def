// Minimal .npy reader/writer for float32 arrays (C order, little-endian, format versions 1-3).
#pragma once
#include <string>

#include "core/tensor.h"

namespace qfrt {

Tensor read_npy_f32(const std::string& path);   // throws Error naming the file
void write_npy_f32(const std::string& path, const Tensor& t);

}  // namespace qfrt
