#include <functional>
#include <map>
#include <stdexcept>

#include "families.h"

namespace qforge::models {

namespace {
const std::map<std::string, std::function<ir::Graph(const ZooOptions&)>>& registry() {
  static const std::map<std::string, std::function<ir::Graph(const ZooOptions&)>> r = {
      {"lenet5", lenet5},
      {"resnet20", [](const ZooOptions& o) { return resnet_cifar(20, false, o); }},
      {"resnet32", [](const ZooOptions& o) { return resnet_cifar(32, false, o); }},
      {"resnet56", [](const ZooOptions& o) { return resnet_cifar(56, false, o); }},
      {"preact_resnet20", [](const ZooOptions& o) { return resnet_cifar(20, true, o); }},
      {"vgg_small", vgg_small},
      {"mobilenet_v2", mobilenet_v2},
      {"resnet18", resnet18},
  };
  return r;
}
}  // namespace

std::vector<std::string> zoo_names() {
  std::vector<std::string> out;
  for (const auto& [name, f] : registry()) out.push_back(name);
  return out;
}

ir::Graph build_model(const std::string& name, const ZooOptions& o) {
  auto it = registry().find(name);
  if (it == registry().end()) {
    std::string list;
    for (const std::string& n : zoo_names()) list += (list.empty() ? "" : ", ") + n;
    throw std::invalid_argument("unknown zoo model '" + name + "'; known: " + list);
  }
  if (o.in_channels < 1 || o.num_classes < 1 || o.image_size < 1 || !(o.width > 0))
    throw std::invalid_argument(name + ": in_channels, num_classes, image_size and width must be positive");
  return it->second(o);
}

}  // namespace qforge::models
