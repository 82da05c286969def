// Imported networks leave again: `qforge export FILE.onnx --format onnx` of PyTorch's own exports (the
// torchvision fixtures) runs in ONNX Runtime with PyTorch's outputs, and re-imports to the same outputs.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cli_helpers.h"
#include "qforge/data/npy.h"

TEST(CliOnnx, ImportedTorchvisionModelsExportToOnnxRuntime) {
  ASSERT_TRUE(have_ort()) << "onnxruntime-node missing in tools/ort: run scripts/setup.sh";
  const std::string fixtures = std::string(QFORGE_SOURCE_DIR) + "/tests/onnx/torchvision/";
  for (const char* name : {"shufflenet_v2_dynamic_tiny", "upsample_opset9_tiny", "upsample_tiny", "regnet_tiny"}) {
    SCOPED_TRACE(name);
    const std::string dir = test_dir(std::string("onnx_rt_") + name), src = fixtures + name;
    CliResult x = run_cli("export " + src + ".onnx --format onnx -o " + dir + "/m.onnx");
    ASSERT_EQ(x.code, 0) << x.err;
    CliResult o = run_ort(dir + "/m.onnx", src + ".input.npy", dir + "/ort.npy");
    ASSERT_EQ(o.code, 0) << o.err;
    CliResult i = run_cli("infer " + dir + "/m.onnx --input " + src + ".input.npy --output " + dir + "/qf.npy");
    ASSERT_EQ(i.code, 0) << i.err;
    const at::Tensor want = qforge::data::read_npy(src + ".output.npy");
    const double scale = want.abs().max().item<double>();
    for (const char* got : {"/ort.npy", "/qf.npy"}) {
      const at::Tensor t = qforge::data::read_npy(dir + got);
      ASSERT_EQ(t.sizes(), want.sizes()) << got;
      EXPECT_LE((t - want).abs().max().item<double>(), 1e-4 * scale) << got;
    }
  }
}
