// VGG-Small, the CIFAR network of the LQ-Nets and LSQ tables: (conv128 x2, pool), (conv256 x2, pool),
// (conv512 x2, pool), classifier; BN + ReLU after every conv.
#include "families.h"

namespace qforge::models {

ir::Graph vgg_small(const ZooOptions& o) {
  ir::GraphBuilder b("vgg_small", o.seed);
  std::string x = b.input("input", {-1, o.in_channels, o.image_size, o.image_size});
  int64_t cin = o.in_channels, size = o.image_size;
  int k = 0;
  for (int64_t c : {128, 256, 512}) {
    const int64_t cout = scaled(c, o.width);
    for (int j = 0; j < 2; ++j, ++k) {
      const std::string i = std::to_string(k);
      x = b.relu(b.batchnorm(b.conv(x, cin, cout, 3, 1, 1, 1, false, "features.conv" + i), cout, "features.bn" + i),
                 "features.relu" + i);
      cin = cout;
    }
    x = b.maxpool(x, 2, 2, 0, "features.pool" + std::to_string(k));
    size /= 2;
  }
  if (size < 1) throw std::invalid_argument("vgg_small: image_size " + std::to_string(o.image_size) + " is too small (>= 8)");
  b.output(b.gemm(b.flatten(x), cin * size * size, o.num_classes, true, "classifier"), "logits");
  return b.finish();
}

}  // namespace qforge::models
