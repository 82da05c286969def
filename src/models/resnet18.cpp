// ResNet-18 (He et al. 2016), ImageNet style as in torchvision: 7x7/2 stem, 3x3/2 max pool, four
// stages of two basic blocks (64..512 channels), 1x1 conv + BN projection shortcuts.
#include "families.h"

namespace qforge::models {

ir::Graph resnet18(const ZooOptions& o) {
  ir::GraphBuilder b("resnet18", o.seed);
  std::string x = b.input("input", {-1, o.in_channels, o.image_size, o.image_size});
  int64_t cin = scaled(64, o.width);
  x = b.relu(b.batchnorm(b.conv(x, o.in_channels, cin, 7, 2, 3, 1, false, "conv1"), cin, "bn1"), "relu");
  x = b.maxpool(x, 3, 2, 1, "maxpool");
  const int64_t widths[4] = {64, 128, 256, 512};
  for (int s = 0; s < 4; ++s) {
    const int64_t cout = scaled(widths[s], o.width);
    for (int i = 0; i < 2; ++i) {
      b.push_scope("layer" + std::to_string(s + 1) + "." + std::to_string(i));
      const int64_t stride = (s > 0 && i == 0) ? 2 : 1;
      std::string shortcut = x;
      if (stride != 1 || cin != cout)
        shortcut = b.batchnorm(b.conv(x, cin, cout, 1, stride, 0, 1, false, "downsample.0"), cout, "downsample.1");
      std::string y = b.relu(b.batchnorm(b.conv(x, cin, cout, 3, stride, 1, 1, false, "conv1"), cout, "bn1"), "relu1");
      y = b.batchnorm(b.conv(y, cout, cout, 3, 1, 1, 1, false, "conv2"), cout, "bn2");
      x = b.relu(b.add(y, shortcut, "add"), "relu2");
      b.pop_scope();
      cin = cout;
    }
  }
  x = b.flatten(b.global_avgpool(x, "avgpool"));
  b.output(b.gemm(x, cin, o.num_classes, true, "fc"), "logits");
  return b.finish();
}

}  // namespace qforge::models
