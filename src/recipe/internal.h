// Declarations shared by the files of src/recipe (not installed).
#pragma once
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "qforge/recipe/overrides.h"
#include "qforge/recipe/recipe.h"

namespace qforge::recipe::detail {

// Where a recipe came from, for error messages.
struct Context {
  std::string source;              // file name (or the source name given to parse_recipe)
  std::vector<Override> overrides;  // applied in this order

  // Throws RecipeError "<source>[:line]: <key>: <message>", adding which override set the key
  // when one did. `mark` is the node the problem is at (a null mark when there is none).
  [[noreturn]] void fail(const std::string& key, const std::string& message,
                         const YAML::Mark& mark = YAML::Mark::null_mark()) const;
};

// YAML tree (after overrides) -> typed recipe; checks keys, types and per-key ranges.
Recipe convert_recipe(const YAML::Node& root, const Context& ctx);

// Rules that involve more than one key (model needs exactly one of zoo/onnx, ...).
void validate_recipe(const Recipe& r, const Context& ctx);

// --- text helpers ---
std::string format_real(double v);  // shortest text that reads back to v; integral values as "3"
std::string quoted(const std::string& s);  // "s" with \" and \\ escaped
std::string join(const std::vector<std::string>& items, const std::string& sep = ", ");
std::string describe_node(const YAML::Node& n);  // "null", "\"abc\"", "a list", "a map"
std::string join_key(const std::string& prefix, const std::string& key);  // "a" + "b" -> "a.b"
// The closest of `candidates` to `word` when it is a likely typo, else "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace qforge::recipe::detail
