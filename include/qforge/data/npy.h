// NumPy .npy files (format 1.0/2.0/3.0, little-endian, C order).
#pragma once
#include <ATen/ATen.h>

#include <string>

namespace qforge::data {

// float32/float64/int64/int32/int8/uint8/bool. Throws DataError naming the file otherwise.
at::Tensor read_npy(const std::string& path);
// Writes PATH.tmp then renames it into place.
void write_npy(const std::string& path, const at::Tensor& t);

}  // namespace qforge::data
