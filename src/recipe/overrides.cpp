// "dotted.key=value" assignments applied to the YAML tree before it is converted.
#include "qforge/recipe/overrides.h"

#include "internal.h"

namespace qforge::recipe {

namespace {

[[noreturn]] void bad(const std::string& text, const std::string& why) {
  throw RecipeError("override " + detail::quoted(text) + ": " + why);
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> split_key(const std::string& key) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = key.find('.', start);
    parts.push_back(key.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

}  // namespace

Override parse_override(const std::string& assignment) {
  const char* form = "expected key.path=value, e.g. train.epochs=3";
  size_t eq = assignment.find('=');
  if (eq == std::string::npos) bad(assignment, std::string("no '='; ") + form);
  Override ov;
  ov.text = assignment;
  ov.key = trim(assignment.substr(0, eq));
  if (ov.key.empty()) bad(assignment, std::string("empty key; ") + form);
  for (const std::string& part : split_key(ov.key))
    if (part.empty()) bad(assignment, "empty part in key " + detail::quoted(ov.key));
  try {
    ov.value = YAML::Load(assignment.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    bad(assignment, "value is not valid YAML: " + e.msg);
  }
  return ov;
}

void apply_override(YAML::Node& root, const Override& ov) {
  if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) bad(ov.text, "the recipe is not a map of keys");
  std::vector<std::string> parts = split_key(ov.key);
  YAML::Node map;
  map.reset(root);  // reset, not =: assigning to a YAML::Node would overwrite what it refers to
  std::string path;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    path = detail::join_key(path, parts[i]);
    YAML::Node next = map[parts[i]];
    if (!next.IsDefined() || next.IsNull()) {
      map[parts[i]] = YAML::Node(YAML::NodeType::Map);
      next.reset(map[parts[i]]);
    } else if (!next.IsMap()) {
      bad(ov.text, path + " is " + detail::describe_node(next) + ", not a map of keys");
    }
    map.reset(next);
  }
  map[parts.back()] = ov.value;
}

}  // namespace qforge::recipe
