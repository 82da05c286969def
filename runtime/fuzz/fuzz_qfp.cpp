// libFuzzer target for the .qfp loader: parse (checksum off, so mutations reach every check behind
// it), compile (codebook layers on int8 grids for odd sizes) and run on one 1x1x28x28 image. Any
// crash, sanitizer report or exception other than qfrt::Error / bad_alloc is a bug. Build and run: see runtime/README.md ("Fuzzing").
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>

#include "core/error.h"
#include "graph/model.h"
#include "pack/qfp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    qfrt::Graph g = qfrt::parse_qfp(std::string(reinterpret_cast<const char*>(data), size), "fuzz.qfp", nullptr, false);
    // Odd sizes also move codebook layers onto int8 grids (QFORGE_RT_CODEBOOK=int8), which re-lowers them.
    setenv("QFORGE_RT_CODEBOOK", size % 2 ? "int8" : "float", 1);
    qfrt::Model m(std::move(g), true);
    qfrt::Tensor x(qfrt::DType::F32, {1, 1, 28, 28});
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>(i % 17) / 8.f - 1.f;
    m.run({x});
  } catch (const qfrt::Error&) {
  } catch (const std::bad_alloc&) {
  }
  return 0;
}
