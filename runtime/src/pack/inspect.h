// `qforge-rt inspect FILE.qfp`: per-layer op, weight bits and bytes, totals and the overhead
// (scales, zero points, biases, header) of a packed file.
#pragma once
#include <string>

namespace qfrt {

std::string inspect_qfp(const std::string& path);

}  // namespace qfrt
