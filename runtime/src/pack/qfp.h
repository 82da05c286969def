// The packed model file (.qfp): the safetensors layout (8-byte little-endian header length, a JSON
// header, raw buffers) holding a lowered graph and its tensors, weights at their real bit width.
// The format is specified in runtime/README.md ("Packed model file").
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace qfrt {

constexpr const char* kQfpFormat = "qforge-packed";
constexpr int kQfpVersion = 1;

// True when the file starts like a safetensors file (a header length, then '{').
bool is_qfp_file(const std::string& path);

// Writes a lowered graph (lower_qdq + annotate_widths) to path through a temporary file and a rename.
void write_qfp(const Graph& g, const std::string& path);

// What a .qfp holds, per stored tensor, for `qforge-rt inspect`.
struct QfpTensorInfo {
  std::string name, kind;  // kind: a packed weight kind ("int4", ...) or the stored dtype ("F32", ...)
  Shape shape;             // the logical shape
  int64_t bytes = 0;
};
struct QfpInfo {
  int64_t file_bytes = 0, header_bytes = 0;  // header: the 8-byte length plus the JSON
  std::vector<QfpTensorInfo> tensors;
};

// Reads and checks a .qfp; every failure names the file, the tensor or node, and the reason.
Graph read_qfp(const std::string& path, QfpInfo* info = nullptr);
// The same on a file's bytes (path names it in messages). verify_checksum = false only for the fuzz
// target, so that mutations reach the checks behind the checksum.
Graph parse_qfp(const std::string& bytes, const std::string& path, QfpInfo* info = nullptr, bool verify_checksum = true);

// load_onnx + lower_qdq + annotate_widths + write_qfp: what `qforge-rt pack` and qf_pack do.
void pack_onnx(const std::string& onnx_path, const std::string& out_path);

}  // namespace qfrt
