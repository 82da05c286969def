// Per-key value rules used by the schema: what a key accepts, as a phrase for messages
// ("an integer >= 1") and as a test.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace qforge::recipe::detail {

template <class T>
struct Check {
  std::string expected;  // noun phrase for messages; "" = the plain type ("an integer", ...)
  // The complete problem ("expected an integer >= 1, got 0") or "" when the value is allowed.
  // Empty function = every value of the type is allowed.
  std::function<std::string(const T&)> problem;
};

// A list key: `item` applies to each item; size >= 0 requires exactly that many items.
template <class T>
struct ListCheck {
  Check<T> item;
  int size = -1;
};

Check<int> int_at_least(int lo);                       // integer >= lo
Check<double> real_above(double lo);                   // number > lo
Check<double> real_at_least(double lo);                // number >= lo
Check<double> real_in_unit_range();                    // number in [0, 1)
Check<double> subset_value();                          // 0, integer >= 1, or fraction in (0, 1)
Check<std::string> one_of(std::vector<std::string> allowed);
Check<std::string> non_empty();
Check<std::string> device_name();                      // cpu | cuda | cuda:N

}  // namespace qforge::recipe::detail
