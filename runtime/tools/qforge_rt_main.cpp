// qforge-rt: run an ONNX (QDQ) model with the integer runtime on a float32 .npy batch.
//   qforge-rt run FILE.onnx --input X.npy --output Y.npy [--bench N] [--json]
//   qforge-rt ops FILE.onnx          which ops run after lowering (integer vs float)
//   qforge-rt pack IN.onnx -o OUT.qfp   packed model file, weights at their real bit width
//   qforge-rt inspect FILE.qfp       per-layer bits and bytes, overhead
// Errors print "qforge-rt: error: ..." and exit 1; usage errors exit 2.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/error.h"
#include "core/npy.h"
#include "graph/model.h"
#include "pack/inspect.h"
#include "pack/qfp.h"

namespace {
const char* kUsage =
    "usage: qforge-rt run FILE.onnx --input X.npy --output Y.npy [--bench N] [--json] [--no-lower]\n"
    "       qforge-rt ops FILE.onnx\n"
    "       qforge-rt pack IN.onnx -o OUT.qfp\n"
    "       qforge-rt inspect FILE.qfp\n"
    "FILE is an ONNX file or a packed .qfp. Runs a quantized (QDQ) or float ONNX model with qforge's integer runtime. --bench N times N runs\n"
    "after 3 warm-up runs (median and min, ms). --no-lower runs the file's ops as written (QDQ in float:\n"
    "the reference the integer path is checked against). QFORGE_RT_ISA=scalar|avx2|avx512vnni picks the kernels.\n";

int usage(const std::string& msg) {
  if (!msg.empty()) std::fprintf(stderr, "qforge-rt: %s\n", msg.c_str());
  std::fputs(kUsage, stderr);
  return 2;
}

// The kernel family the int8 layers ran on: the ISA, "+amx" when its GEMMs use the tiles.
std::string kernels_label() {
  const qfrt::Isa isa = qfrt::active_isa();
  return std::string(qfrt::isa_name(isa)) + (qfrt::amx_active(isa) ? "+amx" : "");
}

std::string json_ops(const std::map<std::string, int>& ops) {
  std::string s = "{";
  for (const auto& kv : ops) s += (s.size() > 1 ? ", \"" : "\"") + kv.first + "\": " + std::to_string(kv.second);
  return s + "}";
}

int cmd_run(int argc, char** argv) {
  std::string model, input, output;
  int bench = 0;
  bool json = false, lower = true;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* name) -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(std::string(name) + " needs a value");
      return argv[++i];
    };
    if (a == "--input") input = value("--input");
    else if (a == "--output") output = value("--output");
    else if (a == "--bench") {
      const std::string v = value("--bench");
      try {
        bench = std::stoi(v);
      } catch (const std::exception&) {
        throw std::invalid_argument("--bench needs a number, got '" + v + "'");
      }
      if (bench < 1) throw std::invalid_argument("--bench must be >= 1");
    } else if (a == "--json") json = true;
    else if (a == "--no-lower") lower = false;
    else if (a == "--help" || a == "-h") return usage("") - 2;
    else if (!a.empty() && a[0] == '-') throw std::invalid_argument("unknown option " + a);
    else if (model.empty()) model = a;
    else throw std::invalid_argument("unexpected argument " + a);
  }
  if (model.empty() || input.empty() || (output.empty() && !bench)) throw std::invalid_argument("run needs FILE, --input and --output");
  qfrt::Model m(model, lower);
  const std::vector<qfrt::Tensor> xs{qfrt::read_npy_f32(input)};  // built once: the timed runs copy no input
  const qfrt::Tensor& x = xs[0];
  std::vector<qfrt::Tensor> y = m.run(xs);
  if (y.at(0).dtype != qfrt::DType::F32) qfrt::fail(model + ": the first output is not float32");
  if (!output.empty()) qfrt::write_npy_f32(output, y[0]);
  double median = 0, best = 0;
  if (bench) {
    for (int i = 0; i < 3; ++i) m.run(xs);
    std::vector<double> ms;
    for (int i = 0; i < bench; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      m.run(xs);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    median = ms[ms.size() / 2];
    best = ms[0];
    std::fprintf(stderr, "qforge-rt: %s on %s: median %.3f ms, min %.3f ms over %d runs (%s)\n", model.c_str(),
                 qfrt::shape_str(x.shape).c_str(), median, best, bench, kernels_label().c_str());
  }
  if (json) {
    std::printf("{\"model\": \"%s\", \"isa\": \"%s\", \"input_shape\": \"%s\", \"output_shape\": \"%s\"", model.c_str(),
                kernels_label().c_str(), qfrt::shape_str(x.shape).c_str(), qfrt::shape_str(y[0].shape).c_str());
    if (bench) std::printf(", \"median_ms\": %.4f, \"min_ms\": %.4f, \"runs\": %d", median, best, bench);
    std::printf(", \"ops\": %s, \"kernels\": %s}\n", json_ops(m.ops()).c_str(), json_ops(m.kernels()).c_str());
  }
  return 0;
}

int cmd_ops(int argc, char** argv) {
  if (argc != 3) throw std::invalid_argument("ops needs exactly one FILE");
  qfrt::Model m(argv[2]);
  std::printf("%s\n", json_ops(m.ops()).c_str());
  if (!m.kernels().empty()) std::printf("low-bit kernels: %s\n", json_ops(m.kernels()).c_str());
  return 0;
}
int cmd_pack(int argc, char** argv) {
  if (argc != 5 || std::string(argv[3]) != "-o") throw std::invalid_argument("pack needs IN.onnx -o OUT.qfp");
  qfrt::pack_onnx(argv[2], argv[4]);
  return 0;
}

int cmd_inspect(int argc, char** argv) {
  if (argc != 3) throw std::invalid_argument("inspect needs exactly one FILE.qfp");
  std::fputs(qfrt::inspect_qfp(argv[2]).c_str(), stdout);
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage("");
  const std::string cmd = argv[1];
  try {
    if (cmd == "run") return cmd_run(argc, argv);
    if (cmd == "ops") return cmd_ops(argc, argv);
    if (cmd == "pack") return cmd_pack(argc, argv);
    if (cmd == "inspect") return cmd_inspect(argc, argv);
    if (cmd == "--help" || cmd == "-h") return usage("") - 2;
    return usage("unknown command '" + cmd + "'");
  } catch (const std::invalid_argument& e) {
    return usage(e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qforge-rt: error: %s\n", e.what());
    return 1;
  }
}
