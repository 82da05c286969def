// NumPy .npy reader and writer: magic "\x93NUMPY", version, header length (uint16 for 1.0, uint32 for
// 2.0/3.0), a Python dict literal {'descr', 'fortran_order', 'shape'}, then the raw C-order data.
#include "qforge/data/npy.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <regex>

#include "file_bytes.h"
#include "qforge/data/dataset.h"

namespace qforge::data {

namespace {
const std::map<std::string, at::ScalarType>& descr_table() {
  static const std::map<std::string, at::ScalarType> m = {
      {"<f4", at::kFloat}, {"<f8", at::kDouble}, {"<f2", at::kHalf}, {"<i8", at::kLong}, {"<i4", at::kInt},
      {"<i2", at::kShort}, {"|i1", at::kChar},   {"<i1", at::kChar}, {"|u1", at::kByte}, {"<u1", at::kByte},
      {"|b1", at::kBool}};
  return m;
}

at::ScalarType dtype_of(const std::string& descr, const std::string& path) {
  auto it = descr_table().find(descr);
  if (it != descr_table().end()) return it->second;
  const bool big = !descr.empty() && descr[0] == '>';
  throw DataError(path + ": unsupported .npy dtype '" + descr + "'" + (big ? " (big-endian)" : "") +
                  "; supported: float16/32/64, int8/16/32/64, uint8, bool, little-endian");
}

const char* descr_of(at::ScalarType t, const std::string& path) {
  switch (t) {
    case at::kFloat: return "<f4";
    case at::kDouble: return "<f8";
    case at::kHalf: return "<f2";
    case at::kLong: return "<i8";
    case at::kInt: return "<i4";
    case at::kShort: return "<i2";
    case at::kChar: return "|i1";
    case at::kByte: return "|u1";
    case at::kBool: return "|b1";
    default:
      throw DataError(path + ": cannot write dtype " + std::string(c10::toString(t)) +
                      " to .npy (float16/32/64, int8/16/32/64, uint8, bool)");
  }
}

size_t le(const std::string& b, size_t off, int bytes) {
  size_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<size_t>(static_cast<unsigned char>(b[off + i])) << (8 * i);
  return v;
}
}  // namespace

at::Tensor read_npy(const std::string& path) {
  const std::string b = read_bytes(path);
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) throw DataError(path + ": not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(b[6]);
  size_t header_len, start;
  if (major == 1) {
    header_len = le(b, 8, 2);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) throw DataError(path + ": truncated .npy header");
    header_len = le(b, 8, 4);
    start = 12;
  } else {
    throw DataError(path + ": unsupported .npy format version " + std::to_string(major));
  }
  if (b.size() - start < header_len)
    throw DataError(path + ": truncated .npy header (" + std::to_string(header_len) + " bytes promised, " +
                    std::to_string(b.size() - start) + " present)");
  const std::string h = b.substr(start, header_len);
  std::smatch m;
  if (!std::regex_search(h, m, std::regex("'descr'\\s*:\\s*'([^']*)'")))
    throw DataError(path + ": bad .npy header, no 'descr': " + h);
  const at::ScalarType t = dtype_of(m[1], path);
  if (!std::regex_search(h, m, std::regex("'fortran_order'\\s*:\\s*(True|False)")))
    throw DataError(path + ": bad .npy header, no 'fortran_order': " + h);
  if (m[1] == "True") throw DataError(path + ": Fortran-order (column-major) arrays are not supported; save with C order");
  if (!std::regex_search(h, m, std::regex("'shape'\\s*:\\s*\\(([^)]*)\\)")))
    throw DataError(path + ": bad .npy header, no 'shape': " + h);
  std::vector<int64_t> shape;
  const std::string dims = m[1];
  static const std::regex item("^\\s*(\\d+)L?\\s*$");
  size_t pos = 0;
  while (pos <= dims.size()) {
    const size_t comma = std::min(dims.find(',', pos), dims.size());
    const std::string tok = dims.substr(pos, comma - pos);
    std::smatch d;
    if (std::regex_match(tok, d, item)) shape.push_back(std::stoll(d[1]));
    else if (tok.find_first_not_of(" \t") != std::string::npos || (comma < dims.size() && shape.empty()))
      throw DataError(path + ": bad .npy shape (" + dims + ")");
    pos = comma + 1;
  }
  int64_t numel = 1;
  for (int64_t s : shape) numel = checked_mul(numel, s, path, "the .npy shape's element count");
  const int64_t bytes = checked_mul(numel, static_cast<int64_t>(c10::elementSize(t)), path, "the .npy data size");
  const size_t data = start + header_len;
  const int64_t holds = static_cast<int64_t>(b.size() - data);
  if (holds != bytes)
    throw DataError(path + ": " + (holds < bytes ? "truncated" : "has trailing data") + ": shape (" + dims + ") of " +
                    c10::toString(t) + " needs " + std::to_string(bytes) + " bytes but the file holds " +
                    std::to_string(holds));
  at::Tensor out = at::empty(shape, at::TensorOptions().dtype(t));
  if (bytes) std::memcpy(out.data_ptr(), b.data() + data, static_cast<size_t>(bytes));
  if (t == at::kBool) {  // only 0/1 are valid bool bytes
    const auto* p = reinterpret_cast<const unsigned char*>(b.data() + data);
    for (int64_t i = 0; i < bytes; ++i)
      if (p[i] > 1) throw DataError(path + ": bool array holds byte " + std::to_string(p[i]) + " at element " + std::to_string(i));
  }
  return out;
}

void write_npy(const std::string& path, const at::Tensor& t) {
  if (!t.defined()) throw DataError(path + ": cannot write an undefined tensor");
  const at::Tensor c = t.detach().to(at::kCPU).contiguous();
  const char* descr = descr_of(c.scalar_type(), path);
  std::string shape;  // Python tuple syntax: "()", "(3,)", "(2, 3)"
  for (int64_t i = 0; i < c.dim(); ++i) shape += (i ? ", " : "") + std::to_string(c.size(i));
  if (c.dim() == 1) shape += ",";
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + shape + "), }";
  // Pad with spaces so magic + version + length + header + '\n' is a multiple of 64 bytes.
  const bool v2 = header.size() + 11 + 64 > 65535;
  const size_t prefix = v2 ? 12 : 10;
  header.append((64 - (prefix + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string head = "\x93NUMPY";
  head += static_cast<char>(v2 ? 2 : 1);
  head += '\0';
  for (size_t i = 0; i < (v2 ? 4u : 2u); ++i) head += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  head += header;

  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw DataError(tmp + ": cannot create: " + std::strerror(errno));
  const size_t bytes = static_cast<size_t>(c.numel()) * c.element_size();
  errno = 0;
  bool ok = std::fwrite(head.data(), 1, head.size(), f) == head.size();
  ok = ok && (bytes == 0 || std::fwrite(c.data_ptr(), 1, bytes, f) == bytes);
  ok = ok && std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  const int err = errno;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    throw DataError(tmp + ": write failed: " + std::strerror(err ? err : errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    throw DataError(path + ": cannot rename " + tmp + " into place: " + std::strerror(e));
  }
}

}  // namespace qforge::data
