// Whole-file reads and size arithmetic shared by the dataset readers (internal to src/data).
#pragma once
#include <cstdint>
#include <string>

namespace qforge::data {

// The file's bytes, gunzipped when it is gzip-compressed (plain files are read as they are).
// Throws DataError naming the file when it is missing, unreadable or a damaged gzip stream.
std::string read_bytes(const std::string& path);
// `path`, or `path`.gz when only that exists; throws DataError naming both when neither does.
std::string existing_variant(const std::string& path);
// a * b, or DataError("<path>: <what> overflows") when the product does not fit in int64.
int64_t checked_mul(int64_t a, int64_t b, const std::string& path, const char* what);

}  // namespace qforge::data
