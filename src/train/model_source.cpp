#include "qforge/train/model_source.h"

#include <stdexcept>

#include "qforge/models/zoo.h"
#include "qforge/onnx/onnx_io.h"
#include "qforge/train/checkpoint.h"

namespace qforge::train {

ir::Graph build_graph(const recipe::ModelConfig& cfg, uint64_t seed) {
  if (!cfg.onnx.empty()) {
    try {
      return onnx_io::import_onnx(cfg.onnx);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("model.onnx: ") + e.what());
    }
  }
  if (cfg.input_size.at(0) != cfg.input_size.at(1))
    throw std::runtime_error("model.input_size: zoo networks take square inputs, got " +
                             std::to_string(cfg.input_size[0]) + "x" + std::to_string(cfg.input_size[1]));
  models::ZooOptions o;
  o.in_channels = cfg.in_channels;
  o.num_classes = cfg.num_classes;
  o.width = cfg.width;
  o.image_size = cfg.input_size[0];
  o.seed = seed;
  try {
    return models::build_model(cfg.zoo, o);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("model.zoo: ") + e.what());
  }
}

ir::Graph load_model_file(const std::string& path) {
  if (path.size() >= 5 && path.substr(path.size() - 5) == ".onnx") return onnx_io::import_onnx(path);
  return load_checkpoint(path).graph;
}

}  // namespace qforge::train
