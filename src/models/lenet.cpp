// LeNet-5 (LeCun et al. 1998) with ReLU and max pooling, the common modern form. The first conv
// is padded by 2 so 28x28 inputs behave like the original 32x32.
#include "families.h"

namespace qforge::models {

ir::Graph lenet5(const ZooOptions& o) {
  ir::GraphBuilder b("lenet5", o.seed);
  const int64_t c1 = scaled(6, o.width), c2 = scaled(16, o.width), f1 = scaled(120, o.width), f2 = scaled(84, o.width);
  std::string x = b.input("input", {-1, o.in_channels, o.image_size, o.image_size});
  x = b.maxpool(b.relu(b.conv(x, o.in_channels, c1, 5, 1, 2, 1, true, "conv1"), "relu1"), 2, 2, 0, "pool1");
  x = b.maxpool(b.relu(b.conv(x, c1, c2, 5, 1, 0, 1, true, "conv2"), "relu2"), 2, 2, 0, "pool2");
  const int64_t s = ((o.image_size) / 2 - 4) / 2;  // 28 -> 5, 32 -> 6
  if (s < 1) throw std::invalid_argument("lenet5: image_size " + std::to_string(o.image_size) + " is too small (>= 12)");
  x = b.flatten(x);
  x = b.relu(b.gemm(x, c2 * s * s, f1, true, "fc1"), "relu3");
  x = b.relu(b.gemm(x, f1, f2, true, "fc2"), "relu4");
  b.output(b.gemm(x, f2, o.num_classes, true, "fc3"), "logits");
  return b.finish();
}

}  // namespace qforge::models
