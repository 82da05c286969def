#include "qforge/ir/serialize.h"

#include <stdexcept>

namespace qforge::ir {

using nlohmann::json;

namespace {
json value_info(const ValueInfo& v) { return {{"name", v.name}, {"dtype", dtype_name(v.dtype)}, {"shape", v.shape}}; }

ValueInfo value_info(const json& j) {
  return {j.at("name").get<std::string>(), dtype_from_name(j.at("dtype").get<std::string>()),
          j.at("shape").get<std::vector<int64_t>>()};
}

json tensor_json(const Tensor& t) {
  json j = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}};
  if (t.dtype == DType::Float32 || t.dtype == DType::Float64) j["data"] = t.to_floats();
  else j["data"] = t.to_int64s();
  return j;
}

Tensor tensor_from_json(const json& j) {
  Tensor t(dtype_from_name(j.at("dtype").get<std::string>()), j.at("shape").get<std::vector<int64_t>>());
  const json& d = j.at("data");
  if (static_cast<int64_t>(d.size()) != t.numel()) throw std::runtime_error("tensor attribute data size does not match its shape");
  for (int64_t i = 0; i < t.numel(); ++i) {
    switch (t.dtype) {
      case DType::Float32: t.data<float>()[i] = d[i].get<float>(); break;
      case DType::Float64: t.data<double>()[i] = d[i].get<double>(); break;
      case DType::Int64: t.data<int64_t>()[i] = d[i].get<int64_t>(); break;
      case DType::Int32: t.data<int32_t>()[i] = d[i].get<int32_t>(); break;
      case DType::Int8: t.data<int8_t>()[i] = d[i].get<int8_t>(); break;
      case DType::UInt8:
      case DType::Bool: t.data<uint8_t>()[i] = d[i].get<uint8_t>(); break;
    }
  }
  return t;
}

json attribute_json(const Attribute& a) {
  return std::visit(
      [](const auto& v) -> json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) return {{"i", v}};
        else if constexpr (std::is_same_v<T, double>) return {{"f", v}};
        else if constexpr (std::is_same_v<T, std::string>) return {{"s", v}};
        else if constexpr (std::is_same_v<T, std::vector<int64_t>>) return {{"ints", v}};
        else if constexpr (std::is_same_v<T, std::vector<double>>) return {{"floats", v}};
        else if constexpr (std::is_same_v<T, std::vector<std::string>>) return {{"strings", v}};
        else return {{"t", tensor_json(v)}};
      },
      a);
}

Attribute attribute_from_json(const json& j) {
  if (j.contains("i")) return j["i"].get<int64_t>();
  if (j.contains("f")) return j["f"].get<double>();
  if (j.contains("s")) return j["s"].get<std::string>();
  if (j.contains("ints")) return j["ints"].get<std::vector<int64_t>>();
  if (j.contains("floats")) return j["floats"].get<std::vector<double>>();
  if (j.contains("strings")) return j["strings"].get<std::vector<std::string>>();
  if (j.contains("t")) return tensor_from_json(j["t"]);
  throw std::runtime_error("attribute has no known type tag");
}
}  // namespace

json graph_to_json(const Graph& g) {
  json j;
  j["name"] = g.name;
  j["inputs"] = json::array();
  for (const ValueInfo& v : g.inputs) j["inputs"].push_back(value_info(v));
  j["outputs"] = json::array();
  for (const ValueInfo& v : g.outputs) j["outputs"].push_back(value_info(v));
  j["nodes"] = json::array();
  for (const Node& n : g.nodes) {
    json attrs = json::object();
    for (const auto& [k, a] : n.attrs.all()) attrs[k] = attribute_json(a);
    j["nodes"].push_back({{"name", n.name}, {"op", n.op}, {"inputs", n.inputs}, {"outputs", n.outputs}, {"attrs", attrs}});
  }
  j["initializers"] = json::array();
  for (const auto& [name, t] : g.initializers)
    j["initializers"].push_back({{"name", name}, {"dtype", dtype_name(t.dtype)}, {"shape", t.shape},
                                 {"buffer", g.buffers.count(name) != 0}});
  return j;
}

Graph graph_from_json(const json& j) {
  Graph g;
  try {
    g.name = j.at("name").get<std::string>();
    for (const json& v : j.at("inputs")) g.inputs.push_back(value_info(v));
    for (const json& v : j.at("outputs")) g.outputs.push_back(value_info(v));
    for (const json& jn : j.at("nodes")) {
      Node n;
      n.name = jn.at("name").get<std::string>();
      n.op = jn.at("op").get<std::string>();
      n.inputs = jn.at("inputs").get<std::vector<std::string>>();
      n.outputs = jn.at("outputs").get<std::vector<std::string>>();
      for (const auto& [k, a] : jn.at("attrs").items()) n.attrs.set(k, attribute_from_json(a));
      g.nodes.push_back(std::move(n));
    }
    for (const json& ji : j.at("initializers")) {
      std::string name = ji.at("name").get<std::string>();
      g.initializers[name] = Tensor(dtype_from_name(ji.at("dtype").get<std::string>()),
                                    ji.at("shape").get<std::vector<int64_t>>());
      if (ji.at("buffer").get<bool>()) g.buffers.insert(name);
    }
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("malformed graph description: ") + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("malformed graph description: ") + e.what());
  }
  return g;
}

}  // namespace qforge::ir
