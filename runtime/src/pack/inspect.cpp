#include "pack/inspect.h"

#include <cstdio>
#include <map>
#include <set>

#include "core/error.h"
#include "pack/qfp.h"
#include "pack/widths.h"

namespace qfrt {

std::string inspect_qfp(const std::string& path) {
  if (!is_qfp_file(path)) fail(path + ": not a .qfp file (pack it first: qforge-rt pack MODEL.onnx -o FILE.qfp)");
  QfpInfo info;
  const Graph g = read_qfp(path, &info);
  std::map<std::string, const QfpTensorInfo*> by_name;
  for (const auto& t : info.tensors) by_name[t.name] = &t;
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-28s %-16s %5s %10s %10s\n", "layer", "op", "bits", "weights", "bytes");
  out += line;
  int64_t wbytes = 0, params = 0;
  std::map<std::string, bool> counted;
  std::map<std::string, std::string> dq_of;  // a float layer's weight may come packed through a DequantizeLinear
  std::set<std::string> codebook_index;
  for (const Node& n : g.nodes)
    if ((n.op == "DequantizeLinear" || n.op == "qf.CodebookDequantize") && g.constant(n.input(0))) {
      dq_of[n.outputs.at(0)] = n.input(0);
      if (n.op == "qf.CodebookDequantize") codebook_index.insert(n.input(0));
    }
  for (const Node& n : g.nodes) {
    const bool qlayer = is_weight_layer(n), flayer = n.op == "Conv" || n.op == "Gemm" || n.op == "MatMul";
    std::string w = qlayer ? n.input(3) : flayer ? n.input(1) : "";
    if (flayer && dq_of.count(w)) w = dq_of[w];
    auto it = by_name.find(w);
    if (w.empty() || it == by_name.end() || counted[w]) continue;
    counted[w] = true;
    const QfpTensorInfo& t = *it->second;
    int bits = 8;
    WKind k;
    std::string label;
    if (wkind_from_name(t.kind, k)) bits = wkind_bits(k);
    else if (t.kind == "F32") bits = 32;
    else if (index_bits_from_name(t.kind)) bits = index_bits_from_name(t.kind), label = "cb" + std::to_string(bits);  // codebook
    else if (codebook_index.count(w)) label = "cb8";
    if (label.empty())
      label = t.kind == "ternary" || t.kind == "binary" || t.kind == "pow2" ? t.kind.substr(0, 3) + std::to_string(bits) : std::to_string(bits);
    const int64_t n_w = numel_of(t.shape);
    std::snprintf(line, sizeof line, "%-28s %-16s %5s %10lld %10lld\n", n.name.substr(0, 28).c_str(), n.op.c_str(),
                  label.c_str(),
                  static_cast<long long>(n_w), static_cast<long long>(t.bytes));
    out += line;
    wbytes += t.bytes;
    params += n_w;
  }
  const int64_t overhead = info.file_bytes - wbytes, other = overhead - info.header_bytes;
  std::snprintf(line, sizeof line,
                "total: %lld weights in %lld bytes (%.2f bits/weight); file %lld bytes = %.4f of float32 weights (%lld bytes)\n"
                "overhead: %lld bytes (%.1f%% of the file): scales, zero points, codebook levels, biases %lld, header %lld\n",
                static_cast<long long>(params), static_cast<long long>(wbytes), params ? 8.0 * static_cast<double>(wbytes) / static_cast<double>(params) : 0.0,
                static_cast<long long>(info.file_bytes), params ? static_cast<double>(info.file_bytes) / (4.0 * static_cast<double>(params)) : 0.0,
                static_cast<long long>(4 * params), static_cast<long long>(overhead),
                info.file_bytes ? 100.0 * static_cast<double>(overhead) / static_cast<double>(info.file_bytes) : 0.0, static_cast<long long>(other),
                static_cast<long long>(info.header_bytes));
  return out + line;
}

}  // namespace qfrt
