// Command-line overrides of recipe keys: "train.epochs=3", "model.input_size=[32,32]".
// parse_recipe / load_recipe apply them; this header is for callers that edit a YAML tree directly.
#pragma once
#include <string>

#include <yaml-cpp/yaml.h>

namespace qforge::recipe {

// A parsed "dotted.key=value" assignment.
struct Override {
  std::string key;    // dotted path, e.g. "train.optimizer.lr"
  YAML::Node value;   // the value read as YAML: scalar, [flow, list] or {flow: map}; "" -> null
  std::string text;   // the assignment as given, for messages
};

// Splits and parses one assignment. Throws RecipeError naming it when there is no '=', the key
// or one of its dotted parts is empty, or the value is not valid YAML.
Override parse_override(const std::string& assignment);

// Sets ov.key in `root` to ov.value, creating missing maps on the way (a null root becomes a map).
// Throws RecipeError naming the override when a part of the path exists but is not a map.
void apply_override(YAML::Node& root, const Override& ov);

}  // namespace qforge::recipe
