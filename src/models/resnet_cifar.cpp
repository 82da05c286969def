// CIFAR ResNets (He et al. 2016, section 4.2): a 3x3 conv with 16 channels, three stages of n basic
// blocks (16, 32, 64 channels; stride 2 at stages 2 and 3), global average pooling, a classifier;
// depth = 6n + 2. Where a block changes shape the shortcut is option B, a 1x1 conv + BN projection:
// it maps directly to ONNX and to integer kernels (option A's zero-padding shortcut does not).
// Note: the common PyTorch reimplementations (akamaster/pytorch_resnet_cifar10) use option A, so their
// parameter counts are 2,752 lower (269,722 for ResNet-20; this one has 272,474).
// preact = true gives the pre-activation blocks of He et al. 2016b (BN-ReLU-conv).
#include "families.h"

namespace qforge::models {

namespace {
std::string basic_block(ir::GraphBuilder& b, std::string x, int64_t cin, int64_t cout, int64_t stride) {
  std::string shortcut = x;
  if (stride != 1 || cin != cout) shortcut = b.batchnorm(b.conv(x, cin, cout, 1, stride, 0, 1, false, "downsample.0"), cout, "downsample.1");
  x = b.relu(b.batchnorm(b.conv(x, cin, cout, 3, stride, 1, 1, false, "conv1"), cout, "bn1"), "relu1");
  x = b.batchnorm(b.conv(x, cout, cout, 3, 1, 1, 1, false, "conv2"), cout, "bn2");
  return b.relu(b.add(x, shortcut, "add"), "relu2");
}

std::string preact_block(ir::GraphBuilder& b, std::string x, int64_t cin, int64_t cout, int64_t stride) {
  std::string pre = b.relu(b.batchnorm(x, cin, "bn1"), "relu1");
  std::string shortcut = x;
  if (stride != 1 || cin != cout) shortcut = b.conv(pre, cin, cout, 1, stride, 0, 1, false, "downsample.0");
  x = b.conv(pre, cin, cout, 3, stride, 1, 1, false, "conv1");
  x = b.conv(b.relu(b.batchnorm(x, cout, "bn2"), "relu2"), cout, cout, 3, 1, 1, 1, false, "conv2");
  return b.add(x, shortcut, "add");
}
}  // namespace

ir::Graph resnet_cifar(int depth, bool preact, const ZooOptions& o) {
  const int n = (depth - 2) / 6;
  ir::GraphBuilder b((preact ? "preact_resnet" : "resnet") + std::to_string(depth), o.seed);
  std::string x = b.input("input", {-1, o.in_channels, o.image_size, o.image_size});
  int64_t cin = scaled(16, o.width);
  x = b.conv(x, o.in_channels, cin, 3, 1, 1, 1, false, "conv1");
  if (!preact) x = b.relu(b.batchnorm(x, cin, "bn1"), "relu");
  const int64_t widths[3] = {16, 32, 64};
  for (int s = 0; s < 3; ++s) {
    const int64_t cout = scaled(widths[s], o.width);
    for (int i = 0; i < n; ++i) {
      b.push_scope("layer" + std::to_string(s + 1) + "." + std::to_string(i));
      const int64_t stride = (s > 0 && i == 0) ? 2 : 1;
      x = preact ? preact_block(b, x, cin, cout, stride) : basic_block(b, x, cin, cout, stride);
      b.pop_scope();
      cin = cout;
    }
  }
  if (preact) x = b.relu(b.batchnorm(x, cin, "bn_final"), "relu_final");
  x = b.flatten(b.global_avgpool(x, "avgpool"));
  b.output(b.gemm(x, cin, o.num_classes, true, "fc"), "logits");
  return b.finish();
}

}  // namespace qforge::models
