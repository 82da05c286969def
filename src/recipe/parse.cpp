// Text or file -> validated Recipe: YAML syntax, overrides, conversion, cross-key rules.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "internal.h"

namespace qforge::recipe {

Recipe parse_recipe(const std::string& yaml_text, const std::vector<std::string>& overrides,
                    const std::string& source_name) {
  detail::Context ctx;
  ctx.source = source_name;
  for (const std::string& o : overrides) ctx.overrides.push_back(parse_override(o));

  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(yaml_text);
  } catch (const YAML::ParserException& e) {
    throw RecipeError(source_name + ":" + std::to_string(e.mark.line + 1) + ":" +
                      std::to_string(e.mark.column + 1) + ": YAML syntax error: " + e.msg);
  }
  if (docs.size() > 1)
    throw RecipeError(source_name + ": expected one YAML document, found " +
                      std::to_string(docs.size()));
  YAML::Node root = docs.empty() ? YAML::Node() : docs[0];
  for (const Override& ov : ctx.overrides) apply_override(root, ov);

  Recipe r = detail::convert_recipe(root, ctx);
  detail::validate_recipe(r, ctx);
  r.source_path = source_name;
  return r;
}

Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RecipeError(path + ": cannot read recipe: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw RecipeError(path + ": cannot read recipe: " + std::strerror(errno));
  return parse_recipe(text.str(), overrides, path);
}

}  // namespace qforge::recipe
