// qforge-rt-synth-weights IN.onnx OUT.onnx binary|ternary: the same QDQ model with every int8
// weight tensor (rank >= 2) replaced by its sign (binary, +-1) or by {-1, 0, +1} (ternary: 0 where
// |w| is under half the tensor's mean |w|). The results mean nothing; the file is for size and speed
// tables of binary / ternary layers until qforge's QDQ export writes BWN / TWN models itself.
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 4 || (std::string(argv[3]) != "binary" && std::string(argv[3]) != "ternary")) {
    std::fprintf(stderr, "usage: qforge-rt-synth-weights IN.onnx OUT.onnx binary|ternary\n");
    return 2;
  }
  const bool binary = std::string(argv[3]) == "binary";
  onnx::ModelProto m;
  std::ifstream in(argv[1], std::ios::binary);
  if (!in || !m.ParseFromIstream(&in)) {
    std::fprintf(stderr, "qforge-rt-synth-weights: cannot read %s as ONNX\n", argv[1]);
    return 1;
  }
  int changed = 0;
  for (onnx::TensorProto& t : *m.mutable_graph()->mutable_initializer()) {
    if (t.data_type() != onnx::TensorProto::INT8 || t.dims_size() < 2) continue;
    std::vector<int> v;
    if (t.has_raw_data())
      for (char c : t.raw_data()) v.push_back(static_cast<int8_t>(c));
    else
      for (int x : t.int32_data()) v.push_back(x);
    double mean = 0;
    for (int x : v) mean += std::abs(x);
    mean /= v.empty() ? 1 : static_cast<double>(v.size());
    std::string raw;
    for (int x : v) raw.push_back(static_cast<char>(binary ? (x >= 0 ? 1 : -1) : (std::abs(x) < 0.5 * mean ? 0 : (x > 0 ? 1 : -1))));
    t.clear_int32_data();
    t.set_raw_data(raw);
    ++changed;
  }
  std::ofstream out(argv[2], std::ios::binary);
  if (!out || !m.SerializeToOstream(&out)) {
    std::fprintf(stderr, "qforge-rt-synth-weights: cannot write %s\n", argv[2]);
    return 1;
  }
  std::printf("%s: %d int8 weight tensors made %s\n", argv[2], changed, argv[3]);
  return 0;
}
