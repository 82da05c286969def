// Whole-file reads for the dataset readers.
#pragma once
#include <string>

namespace qforge::data {

// The file's bytes, gunzipped when it is gzip-compressed. Throws DataError naming the file.
std::string read_bytes(const std::string& path);
// `path`, or `path`.gz when only that exists; throws DataError naming both when neither does.
std::string existing_variant(const std::string& path);

}  // namespace qforge::data
