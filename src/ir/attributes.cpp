#include "qforge/ir/attributes.h"

#include <stdexcept>

namespace qforge::ir {

namespace {
template <typename T>
const T& as(const Attribute& a, const std::string& name, const char* want) {
  if (const T* v = std::get_if<T>(&a)) return *v;
  throw std::runtime_error("attribute '" + name + "' is not of type " + want);
}
}  // namespace

const Attribute& Attributes::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw std::runtime_error("missing required attribute '" + name + "'");
  return it->second;
}

int64_t Attributes::i(const std::string& name, int64_t dflt) const { return has(name) ? i(name) : dflt; }
int64_t Attributes::i(const std::string& name) const { return as<int64_t>(get(name), name, "int"); }

double Attributes::f(const std::string& name, double dflt) const { return has(name) ? f(name) : dflt; }
double Attributes::f(const std::string& name) const {
  const Attribute& a = get(name);
  if (const int64_t* v = std::get_if<int64_t>(&a)) return static_cast<double>(*v);
  return as<double>(a, name, "float");
}

std::string Attributes::s(const std::string& name, const std::string& dflt) const {
  return has(name) ? as<std::string>(get(name), name, "string") : dflt;
}

std::vector<int64_t> Attributes::ints(const std::string& name, const std::vector<int64_t>& dflt) const {
  return has(name) ? ints(name) : dflt;
}
std::vector<int64_t> Attributes::ints(const std::string& name) const {
  return as<std::vector<int64_t>>(get(name), name, "ints");
}

std::vector<double> Attributes::floats(const std::string& name, const std::vector<double>& dflt) const {
  return has(name) ? as<std::vector<double>>(get(name), name, "floats") : dflt;
}

const Tensor& Attributes::t(const std::string& name) const { return as<Tensor>(get(name), name, "tensor"); }

}  // namespace qforge::ir
