// Error messages and the small text helpers they use.
#include <algorithm>
#include <charconv>
#include <cmath>

#include "internal.h"

namespace qforge::recipe::detail {

namespace {

// True when `key` is `base` or lies inside it ("a.b", "a.b.c", "a.b[1]" are inside "a.b").
bool is_within(const std::string& key, const std::string& base) {
  if (key.size() < base.size() || key.compare(0, base.size(), base) != 0) return false;
  return key.size() == base.size() || key[base.size()] == '.' || key[base.size()] == '[';
}

}  // namespace

void Context::fail(const std::string& key, const std::string& message,
                   const YAML::Mark& mark) const {
  // The override responsible: one that set this key or a value containing it, or (for a node
  // without a position in the file) one that created the maps leading to a key below it.
  const Override* by = nullptr;
  for (const Override& ov : overrides) {
    if (is_within(key, ov.key) || (mark.is_null() && !key.empty() && is_within(ov.key, key)))
      by = &ov;
  }
  std::string where = source;
  if (!by && !mark.is_null()) where += ":" + std::to_string(mark.line + 1);
  std::string text = where + ": " + (key.empty() ? "" : key + ": ") + message;
  if (by) text += " (set by override " + quoted(by->text) + ")";
  throw RecipeError(text);
}

std::string format_real(double v) {
  char buf[64];
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
    return std::string(buf, r.ptr);
  }
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

std::string describe_node(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "null";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a map";
  return quoted(n.Scalar());
}

std::string join_key(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  // Edits (insert, delete, replace, swap two neighbours) that turn a into b.
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i)
      for (size_t j = 1; j <= b.size(); ++j) {
        d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1,
                            d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
          d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    return d[a.size()][b.size()];
  };
  std::string best;
  size_t best_d = std::max<size_t>(1, std::min<size_t>(3, word.size() / 3)) + 1;
  for (const std::string& c : candidates) {
    size_t d = distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  return best;
}

}  // namespace qforge::recipe::detail
