// Node attributes, typed like ONNX's: int, float, string, ints, floats, strings, tensor.
#pragma once
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "qforge/ir/tensor.h"

namespace qforge::ir {

using Attribute = std::variant<int64_t, double, std::string, std::vector<int64_t>, std::vector<double>,
                               std::vector<std::string>, Tensor>;

class Attributes {
 public:
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  void set(const std::string& name, Attribute v) { values_[name] = std::move(v); }
  void erase(const std::string& name) { values_.erase(name); }

  // Typed getters throw std::runtime_error naming the attribute if the type is wrong.
  int64_t i(const std::string& name, int64_t dflt) const;
  int64_t i(const std::string& name) const;
  double f(const std::string& name, double dflt) const;
  double f(const std::string& name) const;
  std::string s(const std::string& name, const std::string& dflt) const;
  std::vector<int64_t> ints(const std::string& name, const std::vector<int64_t>& dflt) const;
  std::vector<int64_t> ints(const std::string& name) const;
  std::vector<double> floats(const std::string& name, const std::vector<double>& dflt) const;
  const Tensor& t(const std::string& name) const;

  const std::map<std::string, Attribute>& all() const { return values_; }

 private:
  const Attribute& get(const std::string& name) const;
  std::map<std::string, Attribute> values_;
};

}  // namespace qforge::ir
