// MobileNetV2 (Sandler et al. 2018) as in torchvision: inverted residual blocks with linear
// bottlenecks, ReLU6 (Clip 0..6), channels rounded by make_divisible(8) after the width multiplier.
// For small inputs (image_size <= 64, e.g. CIFAR / Fashion-MNIST) the stem and the first stride-2
// stage use stride 1, as the common CIFAR variants do, so the last feature map is not 1x1.
#include "families.h"

namespace qforge::models {

namespace {
int64_t make_divisible(double v, int64_t divisor = 8) {
  int64_t n = std::max<int64_t>(divisor, static_cast<int64_t>(v + divisor / 2.0) / divisor * divisor);
  if (n < 0.9 * v) n += divisor;  // do not round down by more than 10%
  return n;
}

std::string conv_bn(ir::GraphBuilder& b, const std::string& x, int64_t cin, int64_t cout, int64_t k, int64_t stride,
                    int64_t groups, const std::string& prefix, bool relu6) {
  std::string y = b.batchnorm(b.conv(x, cin, cout, k, stride, (k - 1) / 2, groups, false, prefix + ".0"), cout, prefix + ".1");
  return relu6 ? b.clip(y, 0.0, 6.0, prefix + ".2") : y;
}
}  // namespace

ir::Graph mobilenet_v2(const ZooOptions& o) {
  ir::GraphBuilder b("mobilenet_v2", o.seed);
  const bool small = o.image_size <= 64;
  std::string x = b.input("input", {-1, o.in_channels, o.image_size, o.image_size});
  int64_t cin = make_divisible(32 * o.width);
  x = conv_bn(b, x, o.in_channels, cin, 3, small ? 1 : 2, 1, "features.0", true);
  const int settings[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
                              {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  int index = 1;
  for (int s = 0; s < 7; ++s) {
    const int t = settings[s][0], n = settings[s][2];
    const int64_t cout = make_divisible(settings[s][1] * o.width);
    for (int i = 0; i < n; ++i, ++index) {
      int64_t stride = i == 0 ? settings[s][3] : 1;
      if (small && s == 1) stride = 1;
      const std::string p = "features." + std::to_string(index) + ".conv";
      const int64_t hidden = cin * t;
      std::string y = x;
      int part = 0;
      if (t != 1) y = conv_bn(b, y, cin, hidden, 1, 1, 1, p + "." + std::to_string(part++), true);
      y = conv_bn(b, y, hidden, hidden, 3, stride, hidden, p + "." + std::to_string(part++), true);
      y = b.batchnorm(b.conv(y, hidden, cout, 1, 1, 0, 1, false, p + "." + std::to_string(part)), cout,
                      p + "." + std::to_string(part + 1));
      x = (stride == 1 && cin == cout) ? b.add(x, y, "features." + std::to_string(index) + ".add") : y;
      cin = cout;
    }
  }
  const int64_t last = make_divisible(1280 * std::max(1.0, o.width));
  x = conv_bn(b, x, cin, last, 1, 1, 1, "features." + std::to_string(index), true);
  x = b.dropout(b.flatten(b.global_avgpool(x, "avgpool")), 0.2, "classifier.0");
  b.output(b.gemm(x, last, o.num_classes, true, "classifier.1"), "logits");
  return b.finish();
}

}  // namespace qforge::models
