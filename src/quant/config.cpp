#include "qforge/quant/config.h"

#include <set>
#include <stdexcept>

namespace qforge::quant {

namespace {
[[noreturn]] void fail(const std::string& key, const std::string& what) { throw std::runtime_error(key + ": " + what); }

void check_keys(const YAML::Node& n, const std::string& key, const std::set<std::string>& allowed) {
  if (!n.IsMap()) fail(key, "expected a map");
  for (const auto& kv : n) {
    std::string k = kv.first.as<std::string>();
    if (!allowed.count(k)) {
      std::string list;
      for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
      fail(key + "." + k, "unknown key; allowed keys: " + list);
    }
  }
}

template <typename T>
T scalar(const YAML::Node& n, const std::string& key, const char* want) {
  try {
    return n.as<T>();
  } catch (const YAML::Exception&) {
    fail(key, std::string("expected ") + want + ", got \"" + (n.IsScalar() ? n.Scalar() : std::string("a non-scalar")) + "\"");
  }
}

const std::set<std::string> kCommonKeys{"method", "bits", "per_channel", "signed", "noise"};
}  // namespace

QuantizeConfig parse_quantize(const YAML::Node& node) {
  QuantizeConfig c;
  const std::string k = "quantize";
  check_keys(node, k, {"weights", "activations", "keep_float", "first_last_bits", "overrides", "lr", "freeze_bn_after", "fold_bn", "adds"});
  for (auto [name, sec] : {std::pair{"weights", &c.weights}, std::pair{"activations", &c.activations}}) {
    if (node[name]) {
      if (!node[name].IsMap()) fail(k + "." + name, "expected a map such as {method: lsq, bits: 4}");
      sec->present = true;
      sec->node = YAML::Clone(node[name]);
    }
  }
  if (!c.weights.present && !c.activations.present) fail(k, "needs weights and/or activations");
  if (node["keep_float"]) {
    if (!node["keep_float"].IsSequence()) fail(k + ".keep_float", "expected a list of node names (or first / last)");
    c.keep_float = scalar<std::vector<std::string>>(node["keep_float"], k + ".keep_float", "a list of names");
  }
  if (node["first_last_bits"]) {
    c.first_last_bits = scalar<int>(node["first_last_bits"], k + ".first_last_bits", "an integer");
    if (c.first_last_bits != 0 && (c.first_last_bits < 2 || c.first_last_bits > 8))
      fail(k + ".first_last_bits", "must be 0 (keep float) or 2..8");
  }
  if (node["lr"]) {
    c.lr = scalar<double>(node["lr"], k + ".lr", "a number");
    if (c.lr < 0) fail(k + ".lr", "must be >= 0");
  }
  if (node["fold_bn"]) c.fold_bn = scalar<bool>(node["fold_bn"], k + ".fold_bn", "true or false");
  if (node["adds"]) {
    c.adds = scalar<bool>(node["adds"], k + ".adds", "true or false");
    if (c.adds && !c.activations.present) fail(k + ".adds", "needs an activations section (its quantizers are activation quantizers)");
  }
  if (node["freeze_bn_after"]) c.freeze_bn_after = scalar<int>(node["freeze_bn_after"], k + ".freeze_bn_after", "an integer");
  if (node["overrides"]) {
    const YAML::Node& ov = node["overrides"];
    if (!ov.IsSequence()) fail(k + ".overrides", "expected a list of {match: REGEX, ...}");
    for (size_t i = 0; i < ov.size(); ++i) {
      std::string ok = k + ".overrides[" + std::to_string(i) + "]";
      check_keys(ov[i], ok, {"match", "enable", "weights", "activations"});
      LayerOverride o;
      if (!ov[i]["match"]) fail(ok + ".match", "is required");
      o.match = scalar<std::string>(ov[i]["match"], ok + ".match", "a regular expression");
      try {
        o.re = std::regex(o.match);
      } catch (const std::regex_error& e) {
        fail(ok + ".match", "invalid regular expression \"" + o.match + "\": " + e.what());
      }
      if (ov[i]["enable"]) o.enable = scalar<bool>(ov[i]["enable"], ok + ".enable", "true or false");
      for (auto [name, dst] : {std::pair{"weights", &o.weights}, std::pair{"activations", &o.activations}}) {
        if (!ov[i][name]) continue;
        if (!ov[i][name].IsMap()) fail(ok + "." + name, "expected a map such as {bits: 2}");
        *dst = YAML::Clone(ov[i][name]);
      }
      c.overrides.push_back(std::move(o));
    }
  }
  return c;
}

QuantizerConfig resolve_quantizer(const YAML::Node& s, Role role, const std::string& key) {
  QuantizerConfig q;
  if (!s["method"]) fail(key + ".method", "is required (one of the registered methods)");
  q.method = scalar<std::string>(s["method"], key + ".method", "a method name");
  const QuantMethod* m = nullptr;
  try {
    m = &method(q.method);
  } catch (const std::exception& e) {
    fail(key + ".method", e.what());
  }
  if (!m->supports(role)) fail(key + ".method", "'" + q.method + "' does not quantize " + role_name(role));
  std::set<std::string> allowed = kCommonKeys;
  q.options = m->default_options();
  for (const auto& [name, v] : q.options) allowed.insert(name);
  check_keys(s, key, allowed);
  q.bits = s["bits"] ? scalar<int>(s["bits"], key + ".bits", "an integer") : 8;
  if (q.bits < m->min_bits() || q.bits > m->max_bits())
    fail(key + ".bits", std::to_string(q.bits) + " is outside " + q.method + "'s range " + std::to_string(m->min_bits()) +
                            ".." + std::to_string(m->max_bits()));
  q.per_channel = s["per_channel"] ? scalar<bool>(s["per_channel"], key + ".per_channel", "true or false") : role == Role::Weight;
  if (q.per_channel && role == Role::Activation) fail(key + ".per_channel", "activations are quantized per tensor");
  q.is_signed = s["signed"] ? scalar<bool>(s["signed"], key + ".signed", "true or false") : role == Role::Weight;
  q.noise = s["noise"] ? scalar<double>(s["noise"], key + ".noise", "a number") : 0.0;
  if (q.noise < 0 || q.noise > 1) fail(key + ".noise", "must be in [0, 1] (fraction of a quantization step)");
  for (auto& [name, v] : q.options)
    if (s[name]) v = scalar<double>(s[name], key + "." + name, "a number");
  return q;
}

}  // namespace qforge::quant
