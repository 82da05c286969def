#include "pack/qfp.h"

#include <algorithm>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unistd.h>

#include "core/error.h"
#include "graph/lower_qdq.h"
#include "pack/widths.h"

namespace qfrt {

using json = nlohmann::ordered_json;

namespace {
constexpr int64_t kMaxHeader = int64_t{1} << 28;

// FNV-1a 64 over the graph JSON and the data section: a flipped bit anywhere but in the tensor table
// (which is checked structurally) fails the load instead of silently changing the model.
uint64_t fnv1a(const char* p, size_t n, uint64_t h = 1469598103934665603ull) {
  for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<uint8_t>(p[i])) * 1099511628211ull;
  return h;
}
std::string hex(uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

const char* st_dtype(DType t) {  // safetensors' dtype names
  switch (t) {
    case DType::F32: return "F32";
    case DType::U8: return "U8";
    case DType::S8: return "I8";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
  }
  return "?";
}
bool st_dtype_from(const std::string& s, DType& t) {
  for (DType c : {DType::F32, DType::U8, DType::S8, DType::I32, DType::I64})
    if (s == st_dtype(c)) {
      t = c;
      return true;
    }
  return false;
}

// Integers from the header: a float or an out-of-range number is an error, not a cast.
int64_t int_of(const json& v) {
  if (!v.is_number_integer()) fail("expected an integer, got " + v.dump());
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) fail("integer " + v.dump() + " is too large");
  return v.get<int64_t>();
}
std::vector<int64_t> ints_of(const json& v) {
  if (!v.is_array()) fail("expected an array of integers, got " + v.dump());
  std::vector<int64_t> r;
  for (const json& x : v) r.push_back(int_of(x));
  return r;
}

json attr_json(const Attr& a) {
  json j;
  auto num = [](float f) { return std::isfinite(f) ? json(f) : json(std::isnan(f) ? "nan" : f > 0 ? "inf" : "-inf"); };
  switch (a.kind) {
    case Attr::Int: j["i"] = a.i; break;
    case Attr::Float: j["f"] = num(a.f); break;
    case Attr::Ints: j["ints"] = a.ints; break;
    case Attr::Floats:
      j["floats"] = json::array();
      for (float f : a.floats) j["floats"].push_back(num(f));
      break;
    case Attr::String: j["s"] = a.s; break;
  }
  return j;
}
float json_float(const json& v) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "nan") return std::numeric_limits<float>::quiet_NaN();
    if (s == "inf" || s == "-inf") return s[0] == '-' ? -INFINITY : INFINITY;
    fail("float attribute '" + s + "'");
  }
  if (!v.is_number()) fail("expected a number, got " + v.dump());
  const double d = v.get<double>();
  if (std::isfinite(d) && std::abs(d) > 3.5e38) fail("float attribute " + v.dump() + " is out of range");
  return static_cast<float>(d);
}
Attr attr_from(const json& j) {
  if (!j.is_object() || j.size() != 1) fail("an attribute must be an object with one of i, f, ints, floats, s");
  Attr a;
  const std::string k = j.begin().key();
  const json& v = j.begin().value();
  if (k == "i") a.kind = Attr::Int, a.i = int_of(v);
  else if (k == "f") a.kind = Attr::Float, a.f = json_float(v);
  else if (k == "ints") a.kind = Attr::Ints, a.ints = ints_of(v);
  else if (k == "floats") {
    a.kind = Attr::Floats;
    for (const json& f : v) a.floats.push_back(json_float(f));
  } else if (k == "s") a.kind = Attr::String, a.s = v.get<std::string>();
  else fail("unknown attribute kind '" + k + "'");
  return a;
}

// Weight tensors stored narrower than int8: input 3 of integer layers and constant int8 tensors of
// rank >= 2 that a DequantizeLinear reads (weights of layers that stay float), when every reader agrees.
std::map<std::string, WKind> packed_kinds(const Graph& g) {
  std::map<std::string, WKind> kinds;
  for (const Node& n : g.nodes) {
    const bool dq = n.op == "DequantizeLinear";
    if (!is_weight_layer(n) && !dq) continue;
    const std::string wname = n.input(dq ? 0 : 3), zname = n.input(dq ? 2 : 5);
    const Tensor* w = g.constant(wname);
    if (!w || w->dtype != DType::S8 || w->rank() < (dq ? 2 : 1) || w->dim(0) == 0) continue;
    const WKind k = weight_kind(*w, zname.empty() ? nullptr : g.constant(zname));
    auto it = kinds.find(wname);
    if (it == kinds.end()) kinds[wname] = k;
    else it->second = std::max(it->second, k);  // shared with a reader whose zero point needs more
  }
  for (auto it = kinds.begin(); it != kinds.end();) it = it->second == WKind::Int8 ? kinds.erase(it) : std::next(it);
  return kinds;
}

// Codebook indices stored narrower than a byte: constant uint8 input 0 of qf.CodebookDequantize, at
// ceil(log2(levels)) bits for the reader with the most levels (8: left as bytes).
std::map<std::string, int> packed_index_bits(const Graph& g) {
  std::map<std::string, int> bits;
  for (const Node& n : g.nodes) {
    if (n.op != "qf.CodebookDequantize") continue;
    const Tensor *ix = g.constant(n.input(0)), *lv = g.constant(n.input(1));
    if (!ix || ix->dtype != DType::U8 || !lv || lv->rank() < 1) continue;
    int b = 1;
    while (b < 8 && lv->shape.back() > (int64_t{1} << b)) ++b;
    const uint8_t* v = ix->data<uint8_t>();
    for (int64_t i = 0; i < ix->numel() && b < 8; ++i)
      if (v[i] >> b) b = 8;  // an index past the levels: keep the byte, the op reports it
    auto it = bits.find(n.input(0));
    bits[n.input(0)] = it == bits.end() ? b : std::max(it->second, b);
  }
  for (auto it = bits.begin(); it != bits.end();) it = it->second == 8 ? bits.erase(it) : std::next(it);
  return bits;
}
}  // namespace

bool is_qfp_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char b[9];
  if (!f.read(b, 9)) return false;
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(b[i]);
  return b[8] == '{' && n < static_cast<uint64_t>(kMaxHeader);
}

void write_qfp(const Graph& g, const std::string& path) {
  const std::map<std::string, WKind> kinds = packed_kinds(g);
  const std::map<std::string, int> index_bits = packed_index_bits(g);
  std::set<std::string> used;
  for (const Node& n : g.nodes)
    for (const auto& v : n.inputs)
      if (g.constant(v)) used.insert(v);
  for (const auto& v : g.outputs)
    if (g.constant(v)) used.insert(v);

  json graph;
  graph["inputs"] = g.inputs;
  graph["outputs"] = g.outputs;
  graph["nodes"] = json::array();
  for (const Node& n : g.nodes) {
    json jn;
    jn["name"] = n.name;
    jn["op"] = n.op;
    if (!n.domain.empty()) jn["domain"] = n.domain;
    jn["inputs"] = n.inputs;
    jn["outputs"] = n.outputs;
    json attrs = json::object();
    for (const auto& kv : n.attrs) attrs[kv.first] = attr_json(kv.second);
    jn["attrs"] = attrs;
    graph["nodes"].push_back(jn);
  }
  graph["packed"] = json::object();

  json header = json::object();
  std::string data;
  for (const std::string& name : used) {
    const Tensor& t = g.initializers.at(name);
    auto k = kinds.find(name);
    auto ib = index_bits.find(name);
    json e;
    const size_t begin = data.size();
    if (ib != index_bits.end()) {
      const std::vector<uint8_t> p = pack_indices(t.data<uint8_t>(), t.numel(), ib->second);
      data.append(reinterpret_cast<const char*>(p.data()), p.size());
      e["dtype"] = "U8";
      e["shape"] = {static_cast<int64_t>(p.size())};
      graph["packed"][name] = {{"kind", "index" + std::to_string(ib->second)}, {"shape", t.shape}};
    } else if (k != kinds.end()) {
      const int64_t M = t.dim(0), K = t.numel() / M;
      const std::vector<uint8_t> p = pack_codes(t.data<int8_t>(), M, K, k->second);
      data.append(reinterpret_cast<const char*>(p.data()), p.size());
      e["dtype"] = "U8";
      e["shape"] = {M, packed_row_bytes(k->second, K)};
      graph["packed"][name] = {{"kind", wkind_name(k->second)}, {"shape", t.shape}};
    } else {
      data.append(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size());
      e["dtype"] = st_dtype(t.dtype);
      e["shape"] = t.shape;
    }
    e["data_offsets"] = {begin, data.size()};
    header[name] = e;
  }
  const std::string graph_text = graph.dump();
  json meta;
  meta["format"] = kQfpFormat;
  meta["format_version"] = std::to_string(kQfpVersion);
  meta["graph"] = graph_text;
  meta["checksum"] = "fnv1a64:" + hex(fnv1a(data.data(), data.size(), fnv1a(graph_text.data(), graph_text.size())));
  header["__metadata__"] = meta;
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');  // safetensors pads the header to 8 bytes with spaces
  char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((static_cast<uint64_t>(h.size()) >> (8 * i)) & 0xff);

  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) fail(path + ": cannot write " + tmp);
    f.write(len, 8);
    f.write(h.data(), static_cast<std::streamsize>(h.size()));
    f.write(data.data(), static_cast<std::streamsize>(data.size()));
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      fail(path + ": write failed (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    fail(path + ": cannot rename " + tmp + " to it");
  }
}

Graph read_qfp(const std::string& path, QfpInfo* info) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path + ": cannot open");
  const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return parse_qfp(bytes, path, info);
}

Graph parse_qfp(const std::string& bytes, const std::string& path, QfpInfo* info, bool verify_checksum) {
  const std::string where = path + ": ";
  if (bytes.size() < 8) fail(where + "truncated: " + std::to_string(bytes.size()) + " bytes, a .qfp starts with an 8-byte header length");
  uint64_t hn = 0;
  for (int i = 7; i >= 0; --i) hn = (hn << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
  if (hn > bytes.size() - 8)
    fail(where + "truncated: the header is " + std::to_string(hn) + " bytes, the file has " + std::to_string(bytes.size() - 8) + " after the length");
  const size_t data0 = 8 + static_cast<size_t>(hn);
  const char* data = bytes.data() + data0;
  const size_t data_size = bytes.size() - data0;
  Graph g;
  g.source = path;
  g.lowered = true;
  std::string ctx = "header";
  try {
    const json header = json::parse(bytes.begin() + 8, bytes.begin() + static_cast<std::ptrdiff_t>(data0));
    if (!header.is_object() || !header.contains("__metadata__")) fail("no __metadata__: not a qforge packed file");
    ctx = "__metadata__";
    const json& meta = header["__metadata__"];
    if (!meta.is_object() || meta.value("format", "") != kQfpFormat)
      fail("not a qforge packed file (__metadata__.format is not \"" + std::string(kQfpFormat) + "\")");
    const std::string ver = meta.value("format_version", "?");
    if (ver != std::to_string(kQfpVersion))
      fail("format version " + ver + ", this runtime reads version " + std::to_string(kQfpVersion) + " (re-pack the model)");
    const std::string graph_text = meta.at("graph").get<std::string>();
    const std::string sum = "fnv1a64:" + hex(fnv1a(data, data_size, fnv1a(graph_text.data(), graph_text.size())));
    // Tensor table: dtype, shape and offsets must tile the data section exactly.
    struct Entry {
      std::string name;
      DType dtype;
      Shape shape;
      size_t b, e;
    };
    std::vector<Entry> entries;
    for (auto it = header.begin(); it != header.end(); ++it) {
      if (it.key() == "__metadata__") continue;
      ctx = "tensor '" + it.key() + "'";
      const json& e = it.value();
      Entry en{it.key(), DType::F32, ints_of(e.at("shape")), 0, 0};
      if (!st_dtype_from(e.at("dtype").get<std::string>(), en.dtype)) fail("unsupported dtype " + e.at("dtype").dump());
      const std::vector<int64_t> o = ints_of(e.at("data_offsets"));
      if (o.size() != 2 || o[0] < 0 || o[0] > o[1]) fail("data_offsets must be [begin, end]");
      const std::vector<uint64_t> off = {static_cast<uint64_t>(o[0]), static_cast<uint64_t>(o[1])};
      if (off[1] > data_size)
        fail("truncated: data ends at byte " + std::to_string(off[1]) + ", the data section has " + std::to_string(data_size));
      en.b = static_cast<size_t>(off[0]), en.e = static_cast<size_t>(off[1]);
      const int64_t n = numel_of(en.shape);
      if (static_cast<uint64_t>(n) * dtype_size(en.dtype) != off[1] - off[0])
        fail("shape " + shape_str(en.shape) + " of " + st_dtype(en.dtype) + " needs " + std::to_string(n * static_cast<int64_t>(dtype_size(en.dtype))) +
             " bytes, data_offsets give " + std::to_string(off[1] - off[0]));
      entries.push_back(en);
    }
    ctx = "tensor table";
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.b < b.b || (a.b == b.b && a.e < b.e); });
    size_t at = 0;
    for (const Entry& e : entries) {
      if (e.b != at) fail("tensor '" + e.name + "' starts at byte " + std::to_string(e.b) + ", expected " + std::to_string(at) + " (overlap or gap)");
      at = e.e;
    }
    if (at != data_size) fail("the data section has " + std::to_string(data_size) + " bytes, the tensors cover " + std::to_string(at));
    ctx = "__metadata__";
    if (verify_checksum && meta.value("checksum", "") != sum) fail("checksum mismatch: the file is corrupt");

    ctx = "graph";
    const json graph = json::parse(graph_text);
    g.inputs = graph.at("inputs").get<std::vector<std::string>>();
    g.outputs = graph.at("outputs").get<std::vector<std::string>>();
    const json& packed = graph.at("packed");
    for (const Entry& e : entries) {
      ctx = "tensor '" + e.name + "'";
      if (packed.contains(e.name)) {
        const json& p = packed.at(e.name);
        const std::string kind = p.at("kind").get<std::string>();
        if (const int bits = index_bits_from_name(kind)) {
          Tensor t(DType::U8, ints_of(p.at("shape")));
          const int64_t bytes = packed_index_bytes(bits, t.numel());
          if (e.dtype != DType::U8 || e.shape != Shape{bytes})
            fail(kind + " codebook indices of shape " + shape_str(t.shape) + " are stored as U8 " + shape_str({bytes}) + ", the file has " +
                 st_dtype(e.dtype) + " " + shape_str(e.shape));
          unpack_indices(reinterpret_cast<const uint8_t*>(data + e.b), t.numel(), bits, t.data<uint8_t>());
          if (info) info->tensors.push_back({e.name, kind, t.shape, static_cast<int64_t>(e.e - e.b)});
          g.initializers[e.name] = std::move(t);
          continue;
        }
        WKind k;
        if (!wkind_from_name(p.at("kind").get<std::string>(), k)) fail("unknown packed kind " + p.at("kind").dump());
        Tensor t(DType::S8, ints_of(p.at("shape")));
        if (t.rank() < 1 || t.dim(0) == 0) fail("a packed weight needs a nonzero first dimension, shape " + shape_str(t.shape));
        const int64_t M = t.dim(0), K = t.numel() / M;
        if (e.dtype != DType::U8 || e.shape != Shape{M, packed_row_bytes(k, K)})
          fail(std::string(wkind_name(k)) + " weights of shape " + shape_str(t.shape) + " are stored as U8 " +
               shape_str({M, packed_row_bytes(k, K)}) + ", the file has " + st_dtype(e.dtype) + " " + shape_str(e.shape));
        unpack_codes(reinterpret_cast<const uint8_t*>(data + e.b), M, K, k, t.data<int8_t>());
        if (info) info->tensors.push_back({e.name, wkind_name(k), t.shape, static_cast<int64_t>(e.e - e.b)});
        g.initializers[e.name] = std::move(t);
      } else {
        Tensor t(e.dtype, e.shape);
        if (!t.bytes.empty()) std::memcpy(t.bytes.data(), data + e.b, t.bytes.size());
        if (info) info->tensors.push_back({e.name, st_dtype(e.dtype), t.shape, static_cast<int64_t>(e.e - e.b)});
        g.initializers[e.name] = std::move(t);
      }
    }
    for (auto it = packed.begin(); it != packed.end(); ++it)
      if (!g.constant(it.key())) fail("packed tensor '" + it.key() + "' is not in the tensor table");
    size_t idx = 0;
    for (const json& jn : graph.at("nodes")) {
      Node n;
      n.name = jn.at("name").get<std::string>();
      ctx = "node " + std::to_string(idx++) + " '" + n.name + "'";
      n.op = jn.at("op").get<std::string>();
      n.domain = jn.value("domain", "");
      n.inputs = jn.at("inputs").get<std::vector<std::string>>();
      n.outputs = jn.at("outputs").get<std::vector<std::string>>();
      for (auto a = jn.at("attrs").begin(); a != jn.at("attrs").end(); ++a) n.attrs[a.key()] = attr_from(a.value());
      g.nodes.push_back(std::move(n));
    }
  } catch (const json::exception& e) {
    std::string msg = e.what();  // a parse error quotes what it read: the whole graph text, maybe
    if (msg.size() > 240) msg = msg.substr(0, 240) + "...";
    fail(where + ctx + ": " + msg);
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.rfind(where, 0) == 0) throw;
    fail(where + ctx + ": " + msg);
  }
  if (info) {
    info->file_bytes = static_cast<int64_t>(bytes.size());
    info->header_bytes = static_cast<int64_t>(data0);
  }
  return g;
}

void pack_onnx(const std::string& onnx_path, const std::string& out_path) {
  Graph g = load_onnx(onnx_path);
  try {
    lower_qdq(g, false);
    annotate_widths(g);
  } catch (const Error& e) {
    fail(onnx_path + ": " + e.what());
  }
  write_qfp(g, out_path);
}

}  // namespace qfrt
