// Networks of the torchvision family, exported by PyTorch itself (scripts/goldens/make_torchvision_models.py
// --set tiny: small widths of ShuffleNetV2, MobileNetV3-small, DenseNet, RegNet, and an upsampling net),
// import and reproduce PyTorch's outputs. The full-size models are checked by bench/torchvision_import.sh.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qforge/data/npy.h"
#include "qforge/exec/graph_module.h"
#include "qforge/ir/shape_inference.h"
#include "qforge/onnx/onnx_io.h"

using namespace qforge;

TEST(Torchvision, TinyExportsReproducePyTorch) {
  const std::string dir = std::string(QFORGE_SOURCE_DIR) + "/tests/onnx/torchvision/";
  for (const char* name : {"shufflenet_v2_tiny", "mobilenet_v3_small_tiny", "densenet_tiny", "regnet_tiny",
                           "shufflenet_v2_dynamic_tiny", "shufflenet_v2_dynamic_opset11_tiny", "upsample_tiny",
                           "upsample_opset9_tiny"}) {
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

// Exported with a dynamic batch, ShuffleNetV2 computes its channel-shuffle reshapes and its channel
// split from Shape at run time (opset 13, and opset 11 with Unsqueeze axes as attributes). Import folds
// that arithmetic: no Shape node is left, every shape is static, and the graph still runs at another batch.
TEST(Torchvision, RuntimeShapeArithmeticFoldsAndKeepsTheBatchFree) {
  const std::string dir = std::string(QFORGE_SOURCE_DIR) + "/tests/onnx/torchvision/";
  for (const char* name : {"shufflenet_v2_dynamic_tiny", "shufflenet_v2_dynamic_opset11_tiny"}) {
    SCOPED_TRACE(name);
    const ir::Graph g = onnx_io::import_onnx(dir + name + ".onnx");
    int reshapes = 0;
    for (const ir::Node& n : g.nodes) {
      EXPECT_NE(n.op, "Shape") << n.name;
      EXPECT_NE(n.op, "Gather") << n.name;
      reshapes += n.op == "Reshape";
    }
    EXPECT_EQ(reshapes, 8);  // 4 channel shuffles, each a view, a transpose and a view
    EXPECT_NO_THROW(ir::infer_shapes(g, 5));
    exec::GraphModule m(g);
    m.eval();
    at::NoGradGuard ng;
    const at::Tensor x = data::read_npy(dir + name + ".input.npy"), want = data::read_npy(dir + name + ".output.npy");
    const double scale = want.abs().max().item<double>();
    for (int64_t b : {1, 2}) {  // the file's batch is 2
      const at::Tensor got = m.forward(x.narrow(0, 0, b));
      ASSERT_EQ(got.size(0), b);
      EXPECT_LE((got - want.narrow(0, 0, b)).abs().max().item<double>(), 1e-4 * scale);
    }
    const at::Tensor x3 = at::cat({x, x.narrow(0, 0, 1)});
    EXPECT_LE((m.forward(x3).narrow(0, 2, 1) - want.narrow(0, 0, 1)).abs().max().item<double>(), 1e-4 * scale);
  }
}
