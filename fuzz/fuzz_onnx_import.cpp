// libFuzzer target for the ONNX importer: any byte string must import or fail with OnnxError /
// std::exception naming what is wrong; never crash, hang or trip a sanitizer. What imports must
// also export and import again (the exporter sees every graph shape the importer can produce).
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include "qforge/onnx/onnx_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  qforge::ir::Graph g;
  try {
    g = qforge::onnx_io::import_onnx_bytes(bytes, "fuzz.onnx");
  } catch (const std::exception&) {
    return 0;  // a clear error is the expected outcome for most inputs
  }
  try {
    qforge::onnx_io::import_onnx_bytes(qforge::onnx_io::export_onnx_bytes(g), "reexport.onnx");
  } catch (const std::exception&) {
    // Graphs with ops that have no ONNX form are refused by the exporter: also fine.
  }
  return 0;
}
