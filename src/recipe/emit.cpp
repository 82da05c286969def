// Recipe -> YAML text with every key (the effective recipe stored in checkpoints).
#include <cstdlib>
#include <type_traits>

#include "internal.h"
#include "schema.h"

namespace qforge::recipe {

namespace detail {
namespace {

// True when a plain scalar `s` would be read back as something other than this string
// (a number, a boolean, null); such strings are written quoted so other YAML readers agree.
bool looks_typed(const std::string& s) {
  static const char* words[] = {"true", "True", "TRUE", "false", "False", "FALSE", "null",
                                "Null", "NULL", "~", "yes", "no", "on", "off", "Yes", "No",
                                "On", "Off", "YES", "NO", "ON", "OFF"};
  for (const char* w : words)
    if (s == w) return true;
  if (s.empty()) return true;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

void write(YAML::Emitter& out, const std::string& s) {
  if (looks_typed(s)) out << YAML::DoubleQuoted;
  out << s;
}
void write(YAML::Emitter& out, bool b) { out << (b ? "true" : "false"); }
void write(YAML::Emitter& out, int v) { out << v; }
void write(YAML::Emitter& out, std::uint64_t v) { out << v; }
void write(YAML::Emitter& out, double v) { out << format_real(v); }

template <class T>
void write(YAML::Emitter& out, const std::vector<T>& values) {
  out << YAML::Flow << YAML::BeginSeq;
  for (const T& v : values) write(out, v);
  out << YAML::EndSeq;
}

template <class S>
class Writer {
 public:
  Writer(YAML::Emitter& out, const S& in) : out_(out), in_(in) {}

  void write_map() {
    out_ << YAML::BeginMap;
    schema(*this, Tag<S>{});
    out_ << YAML::EndMap;
  }

  template <class M, class... C>
  void field(const char* key, M S::*m, const C&...) {
    if constexpr (std::is_same_v<M, YAML::Node>) {
      const YAML::Node& n = in_.*m;
      if (n.IsDefined() && !n.IsNull()) out_ << YAML::Key << key << YAML::Value << n;
    } else {
      out_ << YAML::Key << key << YAML::Value;
      write(out_, in_.*m);
    }
  }

  template <class U>
  void section(const char* key, U S::*m) {
    out_ << YAML::Key << key << YAML::Value;
    Writer<U>(out_, in_.*m).write_map();
  }

 private:
  YAML::Emitter& out_;
  const S& in_;
};

}  // namespace
}  // namespace detail

std::string to_yaml(const Recipe& r) {
  YAML::Emitter out;
  detail::Writer<Recipe>(out, r).write_map();
  return std::string(out.c_str()) + "\n";
}

}  // namespace qforge::recipe
