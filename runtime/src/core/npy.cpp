#include "core/npy.h"

#include <fstream>
#include <regex>
#include <sstream>

#include "core/error.h"

namespace qfrt {

Tensor read_npy_f32(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path + ": cannot open");
  std::string buf((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (buf.size() < 10 || buf.compare(0, 6, "\x93NUMPY") != 0) fail(path + ": not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(buf[6]);
  size_t hlen, start;
  if (major == 1) {
    hlen = static_cast<unsigned char>(buf[8]) | (static_cast<unsigned char>(buf[9]) << 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (buf.size() < 12) fail(path + ": truncated .npy header");
    hlen = 0;
    for (int i = 0; i < 4; ++i) hlen |= static_cast<size_t>(static_cast<unsigned char>(buf[8 + i])) << (8 * i);
    start = 12;
  } else {
    fail(path + ": unsupported .npy version " + std::to_string(major));
  }
  if (start + hlen > buf.size()) fail(path + ": truncated .npy header");
  const std::string header = buf.substr(start, hlen);
  if (!std::regex_search(header, std::regex("'descr':\\s*'<f4'")))
    fail(path + ": expected float32 ('<f4') data, header " + header);
  if (std::regex_search(header, std::regex("'fortran_order':\\s*True"))) fail(path + ": Fortran order is not supported");
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)"))) fail(path + ": no shape in header");
  Shape shape;
  std::stringstream ss(m[1].str());
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.find_first_not_of(" \t") == std::string::npos) continue;
    try {
      shape.push_back(std::stoll(item));
    } catch (const std::exception&) {
      fail(path + ": bad shape entry '" + item + "'");
    }
  }
  Tensor t(DType::F32, shape);
  const size_t off = start + hlen, need = t.bytes.size();
  if (buf.size() - off != need)
    fail(path + ": holds " + std::to_string(buf.size() - off) + " data bytes, shape " + shape_str(shape) + " needs " +
         std::to_string(need));
  std::memcpy(t.bytes.data(), buf.data() + off, need);
  return t;
}

void write_npy_f32(const std::string& path, const Tensor& t) {
  if (t.dtype != DType::F32) fail(path + ": only float32 tensors can be written as .npy here");
  std::string shape = "(";
  for (size_t i = 0; i < t.shape.size(); ++i) shape += std::to_string(t.shape[i]) + (t.shape.size() == 1 || i + 1 < t.shape.size() ? "," : "");
  shape += ")";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  if (!f) fail(path + ": cannot write");
  const uint16_t hl = static_cast<uint16_t>(header.size());
  f.write("\x93NUMPY\x01\x00", 8);
  f.put(static_cast<char>(hl & 0xff)).put(static_cast<char>(hl >> 8));
  f << header;
  f.write(reinterpret_cast<const char*>(t.bytes.data()), static_cast<std::streamsize>(t.bytes.size()));
  if (!f) fail(path + ": write failed");
}

}  // namespace qfrt
