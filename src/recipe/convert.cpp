// YAML tree -> typed Recipe: unknown and duplicate keys, value types, per-key rules.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <type_traits>

#include "internal.h"
#include "schema.h"

namespace qforge::recipe::detail {

namespace {

// --- scalar text -> value; false when the text is not of that type ---

std::string without_plus(const std::string& s) {
  return s.size() > 1 && s[0] == '+' && s[1] != '-' ? s.substr(1) : s;
}

bool parse_value(const std::string& text, long long& out) {
  std::string s = without_plus(text);
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_value(const std::string& text, unsigned long long& out) {
  std::string s = without_plus(text);
  if (s.empty() || s[0] == '-') return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_value(const std::string& text, double& out) {
  std::string s = without_plus(text);
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size() && std::isfinite(out);
}

template <class T> std::string type_phrase();
template <> std::string type_phrase<int>() { return "an integer"; }
template <> std::string type_phrase<std::uint64_t>() { return "a non-negative integer"; }
template <> std::string type_phrase<double>() { return "a number"; }
template <> std::string type_phrase<bool>() { return "true or false"; }
template <> std::string type_phrase<std::string>() { return "a string"; }

// Reads the map `node` (null = empty) at dotted path `path` into `out`, following schema(Tag<S>).
template <class S>
class Reader {
 public:
  Reader(const Context& ctx, const YAML::Node& node, std::string path, S& out)
      : ctx_(ctx), node_(node), path_(std::move(path)), out_(out) {}

  void read() {
    std::vector<std::string> allowed = schema_keys<S>();
    if (node_.IsDefined() && !node_.IsNull()) {
      if (!node_.IsMap())
        ctx_.fail(path_, "expected a map with keys " + join(allowed) + "; got " +
                             describe_node(node_), node_.Mark());
      check_keys(allowed);
    }
    schema(*this, Tag<S>{});
  }

  template <class M>
  void field(const char* key, M S::*m) {
    field(key, m, Check<M>{});
  }

  template <class M>
  void field(const char* key, M S::*m, const Check<M>& check) {
    YAML::Node v = child(key);
    if (v.IsDefined()) out_.*m = convert(v, join_key(path_, key), check);
  }

  void field(const char* key, YAML::Node S::*m) {
    YAML::Node v = child(key);
    out_.*m = v.IsDefined() && !v.IsNull() ? YAML::Clone(v) : YAML::Node();
  }

  template <class T>
  void field(const char* key, std::vector<T> S::*m, const ListCheck<T>& check) {
    YAML::Node v = child(key);
    if (!v.IsDefined()) return;
    std::string k = join_key(path_, key);
    std::string item = check.item.expected.empty() ? type_phrase<T>() : check.item.expected;
    std::string phrase = check.size >= 0 ? "a list of " + std::to_string(check.size) + " items"
                                         : "a list";
    phrase += ", each " + item;
    if (!v.IsSequence()) ctx_.fail(k, "expected " + phrase + "; got " + describe_node(v), v.Mark());
    if (check.size >= 0 && static_cast<int>(v.size()) != check.size)
      ctx_.fail(k, "expected " + phrase + "; got " + std::to_string(v.size()) + " items",
                v.Mark());
    std::vector<T> values;
    for (size_t i = 0; i < v.size(); ++i)
      values.push_back(convert(v[i], k + "[" + std::to_string(i) + "]", check.item));
    out_.*m = std::move(values);
  }

  template <class U>
  void section(const char* key, U S::*m) {
    Reader<U>(ctx_, child(key), join_key(path_, key), out_.*m).read();
  }

 private:
  YAML::Node child(const char* key) const {
    if (!node_.IsDefined() || !node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& map = node_;
    return map[key];
  }

  void check_keys(const std::vector<std::string>& allowed) const {
    std::set<std::string> seen;
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      const YAML::Node& k = it->first;
      if (!k.IsScalar())
        ctx_.fail(path_, "keys must be plain names, got " + describe_node(k), k.Mark());
      std::string key = k.Scalar();
      std::string full = join_key(path_, key);
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string hint = closest_match(key, allowed);
        ctx_.fail(full, "unknown key" + (hint.empty() ? "" : " (did you mean " + hint + "?)") +
                            "; allowed keys: " + join(allowed), k.Mark());
      }
      if (!seen.insert(key).second) ctx_.fail(full, "duplicate key", k.Mark());
    }
  }

  template <class T>
  T convert(const YAML::Node& v, const std::string& key, const Check<T>& check) const {
    std::string phrase = check.expected.empty() ? type_phrase<T>() : check.expected;
    auto type_error = [&] { ctx_.fail(key, "expected " + phrase + ", got " + describe_node(v),
                                      v.Mark()); };
    T value{};
    if constexpr (std::is_same_v<T, std::string>) {
      if (v.IsNull()) value = "";
      else if (v.IsScalar()) value = v.Scalar();
      else type_error();
    } else {
      if (!v.IsScalar()) type_error();
      const std::string& s = v.Scalar();
      if constexpr (std::is_same_v<T, bool>) {
        if (s == "true" || s == "True" || s == "TRUE") value = true;
        else if (s == "false" || s == "False" || s == "FALSE") value = false;
        else type_error();
      } else if constexpr (std::is_same_v<T, int>) {
        long long x = 0;
        if (!parse_value(s, x)) type_error();
        if (x < std::numeric_limits<int>::min() || x > std::numeric_limits<int>::max())
          ctx_.fail(key, "expected " + phrase + ", got " + s + " (out of range)", v.Mark());
        value = static_cast<int>(x);
      } else if constexpr (std::is_same_v<T, std::uint64_t>) {
        unsigned long long x = 0;
        if (!parse_value(s, x)) type_error();
        value = x;
      } else {
        static_assert(std::is_same_v<T, double>);
        if (!parse_value(s, value)) type_error();
      }
    }
    if (check.problem) {
      std::string problem = check.problem(value);
      if (!problem.empty()) ctx_.fail(key, problem, v.Mark());
    }
    return value;
  }

  const Context& ctx_;
  YAML::Node node_;
  std::string path_;
  S& out_;
};

}  // namespace

Recipe convert_recipe(const YAML::Node& root, const Context& ctx) {
  Recipe r;
  Reader<Recipe>(ctx, root, "", r).read();
  return r;
}

}  // namespace qforge::recipe::detail
