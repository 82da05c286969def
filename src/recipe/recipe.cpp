// Recipe equality (key by key, quantize by content) and subset sizes.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "internal.h"
#include "schema.h"

namespace qforge::recipe {

namespace detail {
namespace {

bool same_node(const YAML::Node& a, const YAML::Node& b) {
  bool a_null = !a.IsDefined() || a.IsNull(), b_null = !b.IsDefined() || b.IsNull();
  if (a_null || b_null) return a_null == b_null;
  if (a.Type() != b.Type()) return false;
  if (a.IsScalar()) return a.Scalar() == b.Scalar();
  if (a.size() != b.size()) return false;
  if (a.IsSequence()) {
    for (size_t i = 0; i < a.size(); ++i)
      if (!same_node(a[i], b[i])) return false;
    return true;
  }
  for (auto ia = a.begin(); ia != a.end(); ++ia) {  // maps: same pairs, any order
    bool found = false;
    for (auto ib = b.begin(); ib != b.end() && !found; ++ib)
      found = same_node(ia->first, ib->first) && same_node(ia->second, ib->second);
    if (!found) return false;
  }
  return true;
}

template <class S>
struct Comparer {
  const S& a;
  const S& b;
  bool equal = true;

  template <class M, class... C>
  void field(const char*, M S::*m, const C&...) {
    if constexpr (std::is_same_v<M, YAML::Node>) equal = equal && same_node(a.*m, b.*m);
    else equal = equal && a.*m == b.*m;
  }
  template <class U>
  void section(const char*, U S::*m) {
    Comparer<U> sub{a.*m, b.*m};
    schema(sub, Tag<U>{});
    equal = equal && sub.equal;
  }
};

}  // namespace
}  // namespace detail

bool operator==(const Recipe& a, const Recipe& b) {
  detail::Comparer<Recipe> c{a, b};
  detail::schema(c, detail::Tag<Recipe>{});
  return c.equal;
}

bool operator!=(const Recipe& a, const Recipe& b) { return !(a == b); }

std::size_t subset_count(double subset, std::size_t available) {
  if (subset <= 0) return available;
  if (subset >= 1) return std::min(available, static_cast<std::size_t>(subset));
  auto n = static_cast<std::size_t>(std::llround(subset * static_cast<double>(available)));
  return std::min(available, std::max<std::size_t>(n, 1));
}

}  // namespace qforge::recipe
