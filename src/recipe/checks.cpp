#include "checks.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "internal.h"

namespace qforge::recipe::detail {

namespace {

// A check from a phrase and a predicate; the message is "expected <phrase>, got <value>".
template <class T, class Ok, class Show>
Check<T> simple(std::string phrase, Ok ok, Show show) {
  Check<T> c;
  c.expected = phrase;
  c.problem = [phrase, ok, show](const T& v) {
    return ok(v) ? std::string() : "expected " + phrase + ", got " + show(v);
  };
  return c;
}

std::string show_int(int v) { return std::to_string(v); }
std::string show_real(double v) { return format_real(v); }

}  // namespace

Check<int> int_at_least(int lo) {
  std::string phrase = lo == 0 ? "a non-negative integer" : "an integer >= " + std::to_string(lo);
  return simple<int>(phrase, [lo](int v) { return v >= lo; }, show_int);
}

Check<double> real_above(double lo) {
  return simple<double>("a number > " + format_real(lo), [lo](double v) { return v > lo; },
                        show_real);
}

Check<double> real_at_least(double lo) {
  return simple<double>("a number >= " + format_real(lo), [lo](double v) { return v >= lo; },
                        show_real);
}

Check<double> real_in_unit_range() {
  return simple<double>("a number in [0, 1)", [](double v) { return v >= 0 && v < 1; },
                        show_real);
}

Check<double> subset_value() {
  return simple<double>(
      "0 (all), an integer >= 1 (the first N) or a fraction in (0, 1)",
      [](double v) { return v == 0 || (v > 0 && v < 1) || (v >= 1 && v == std::floor(v)); },
      show_real);
}

Check<std::string> one_of(std::vector<std::string> allowed) {
  Check<std::string> c;
  c.expected = "one of " + join(allowed);
  c.problem = [allowed](const std::string& v) {
    if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return std::string();
    return quoted(v) + " is not one of " + join(allowed);
  };
  return c;
}

Check<std::string> non_empty() {
  return simple<std::string>("a non-empty string", [](const std::string& v) { return !v.empty(); },
                             [](const std::string& v) { return quoted(v); });
}

Check<std::string> device_name() {
  Check<std::string> c;
  c.expected = "cpu, cuda or cuda:N";
  c.problem = [](const std::string& v) {
    bool ok = v == "cpu" || v == "cuda";
    if (!ok && v.size() > 5 && v.compare(0, 5, "cuda:") == 0)
      ok = std::all_of(v.begin() + 5, v.end(), [](char ch) { return std::isdigit(ch) != 0; });
    return ok ? std::string() : quoted(v) + " is not one of cpu, cuda, cuda:N";
  };
  return c;
}

}  // namespace qforge::recipe::detail
