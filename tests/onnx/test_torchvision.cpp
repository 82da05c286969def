// Networks of the torchvision family, exported by PyTorch itself (scripts/goldens/make_torchvision_models.py
// --set tiny: small widths of ShuffleNetV2, MobileNetV3-small, DenseNet, RegNet), import and reproduce
// PyTorch's outputs. The full-size models are checked by bench/torchvision_import.sh.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qforge/data/npy.h"
#include "qforge/exec/graph_module.h"
#include "qforge/onnx/onnx_io.h"

using namespace qforge;

TEST(Torchvision, TinyExportsReproducePyTorch) {
  const std::string dir = std::string(QFORGE_SOURCE_DIR) + "/tests/onnx/torchvision/";
  for (const char* name : {"shufflenet_v2_tiny", "mobilenet_v3_small_tiny", "densenet_tiny", "regnet_tiny"}) {
    SCOPED_TRACE(name);
    exec::GraphModule m(onnx_io::import_onnx(dir + name + ".onnx"));
    m.eval();
    at::NoGradGuard g;
    const at::Tensor x = data::read_npy(dir + name + ".input.npy"), want = data::read_npy(dir + name + ".output.npy");
    const at::Tensor got = m.forward(x);
    ASSERT_EQ(got.sizes(), want.sizes());
    const double scale = want.abs().max().item<double>();
    ASSERT_GT(scale, 0.0);
    EXPECT_LE((got - want).abs().max().item<double>(), 1e-4 * scale);
  }
}
