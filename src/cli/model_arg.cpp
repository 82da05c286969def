#include "model_arg.h"

#include <stdexcept>

#include "qforge/quant/config.h"
#include "qforge/quant/fake_quant_node.h"
#include "qforge/quant/insert.h"
#include "qforge/train/checkpoint.h"
#include "qforge/train/model_source.h"

namespace qforge::cli {

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

ModelArg resolve_model(const std::string& arg, const std::vector<std::string>& overrides) {
  ModelArg m;
  if (arg.rfind("zoo:", 0) == 0) {
    std::vector<std::string> ov{"model.zoo=" + arg.substr(4)};
    ov.insert(ov.end(), overrides.begin(), overrides.end());
    m.recipe = recipe::parse_recipe("{}", ov, arg);
  } else if (ends_with(arg, ".yaml") || ends_with(arg, ".yml")) {
    m.recipe = recipe::load_recipe(arg, overrides);
  } else if (ends_with(arg, ".onnx")) {
    m.recipe = recipe::parse_recipe("{model: {onnx: \"" + arg + "\"}}", overrides, arg);
  } else {
    train::Checkpoint c = train::load_checkpoint(arg);
    m.recipe = recipe::parse_recipe(c.meta.recipe_yaml, overrides, arg + " (recipe)");
    m.graph = std::move(c.graph);
    return m;
  }
  m.graph = train::build_graph(m.recipe.model, m.recipe.train.seed);
  if (!m.recipe.quantize.IsNull()) {  // a QAT recipe: show / run its network with the quantizers in place
    quant::register_quantization();
    quant::insert_fake_quant(m.graph, quant::parse_quantize(m.recipe.quantize));
  }
  return m;
}

}  // namespace qforge::cli
