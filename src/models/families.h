// One builder function per network family (one .cpp each); zoo.cpp maps names to them.
#pragma once
#include <cmath>
#include <stdexcept>

#include "qforge/ir/builder.h"
#include "qforge/models/zoo.h"

namespace qforge::models {

// Channels scaled by the width multiplier, at least 1.
inline int64_t scaled(int64_t c, double width) { return std::max<int64_t>(1, std::llround(c * width)); }

ir::Graph lenet5(const ZooOptions& o);
ir::Graph resnet_cifar(int depth, bool preact, const ZooOptions& o);
ir::Graph vgg_small(const ZooOptions& o);
ir::Graph mobilenet_v2(const ZooOptions& o);
ir::Graph resnet18(const ZooOptions& o);

}  // namespace qforge::models
