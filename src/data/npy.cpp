#include "qforge/data/npy.h"

#include <filesystem>
#include <fstream>
#include <regex>

#include "file_bytes.h"
#include "qforge/data/dataset.h"

namespace qforge::data {

namespace {
at::ScalarType dtype_of(const std::string& descr, const std::string& path) {
  static const std::map<std::string, at::ScalarType> m = {
      {"<f4", at::kFloat}, {"<f8", at::kDouble}, {"<i8", at::kLong}, {"<i4", at::kInt},
      {"|i1", at::kChar},  {"|u1", at::kByte},   {"|b1", at::kBool}, {"<u1", at::kByte}, {"<i1", at::kChar}};
  auto it = m.find(descr);
  if (it == m.end()) throw DataError(path + ": unsupported .npy dtype '" + descr + "' (float32/64, int64/32/8, uint8, bool)");
  return it->second;
}

const char* descr_of(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "<f4";
    case at::kDouble: return "<f8";
    case at::kLong: return "<i8";
    case at::kInt: return "<i4";
    case at::kChar: return "|i1";
    case at::kByte: return "|u1";
    case at::kBool: return "|b1";
    default: throw DataError(std::string("cannot write dtype ") + c10::toString(t) + " to .npy");
  }
}
}  // namespace

at::Tensor read_npy(const std::string& path) {
  std::string b = read_bytes(path);
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) throw DataError(path + ": not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(b[6]);
  size_t header_len, start;
  if (major == 1) {
    header_len = static_cast<unsigned char>(b[8]) | (static_cast<size_t>(static_cast<unsigned char>(b[9])) << 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) throw DataError(path + ": truncated .npy header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<unsigned char>(b[8 + i])) << (8 * i);
    start = 12;
  } else {
    throw DataError(path + ": unsupported .npy version " + std::to_string(major));
  }
  if (b.size() < start + header_len) throw DataError(path + ": truncated .npy header");
  std::string h = b.substr(start, header_len);
  std::smatch m;
  if (!std::regex_search(h, m, std::regex("'descr':\\s*'([^']+)'"))) throw DataError(path + ": .npy header has no descr");
  at::ScalarType t = dtype_of(m[1], path);
  if (std::regex_search(h, m, std::regex("'fortran_order':\\s*True"))) throw DataError(path + ": Fortran-order arrays are not supported");
  if (!std::regex_search(h, m, std::regex("'shape':\\s*\\(([^)]*)\\)"))) throw DataError(path + ": .npy header has no shape");
  std::vector<int64_t> shape;
  std::string dims = m[1];
  std::regex num("\\d+");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num); it != std::sregex_iterator(); ++it)
    shape.push_back(std::stoll(it->str()));
  at::Tensor out = at::empty(shape, at::TensorOptions().dtype(t));
  const size_t bytes = static_cast<size_t>(out.numel()) * out.element_size();
  const size_t data = start + header_len;
  if (b.size() - data != bytes)
    throw DataError(path + ": " + (b.size() - data < bytes ? "truncated" : "has trailing data") + ": shape needs " +
                    std::to_string(bytes) + " bytes, the file holds " + std::to_string(b.size() - data));
  if (bytes) std::memcpy(out.data_ptr(), b.data() + data, bytes);
  return out;
}

void write_npy(const std::string& path, const at::Tensor& t) {
  at::Tensor c = t.detach().to(at::kCPU).contiguous();
  std::string shape;  // Python tuple syntax: "()", "(3,)", "(2, 3)"
  for (int64_t i = 0; i < c.dim(); ++i) shape += (i ? ", " : "") + std::to_string(c.size(i));
  if (c.dim() == 1) shape += ",";
  std::string header = std::string("{'descr': '") + descr_of(c.scalar_type()) + "', 'fortran_order': False, 'shape': (" +
                       shape + "), }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    f.write("\x93NUMPY\x01\x00", 8);
    const uint16_t len = static_cast<uint16_t>(header.size());
    f.put(static_cast<char>(len & 0xff));
    f.put(static_cast<char>(len >> 8));
    f << header;
    f.write(static_cast<const char*>(c.data_ptr()), static_cast<std::streamsize>(c.numel() * c.element_size()));
    if (!f) throw DataError(path + ": cannot write");
  }
  std::filesystem::rename(tmp, path);
}

Dataset read_npy_dataset(const std::string& images_path, const std::string& labels_path) {
  at::Tensor img = read_npy(images_path), lab = read_npy(labels_path);
  if (img.dim() != 4 || img.scalar_type() != at::kByte)
    throw DataError(images_path + ": expected uint8 images [N, C, H, W], got " + c10::toString(img.scalar_type()) + " " +
                    c10::str(img.sizes()));
  if (lab.dim() != 1 || !at::isIntegralType(lab.scalar_type(), false))
    throw DataError(labels_path + ": expected integer labels [N]");
  if (lab.size(0) != img.size(0))
    throw DataError(images_path + ": holds " + std::to_string(img.size(0)) + " images but " + labels_path + " holds " +
                    std::to_string(lab.size(0)) + " labels");
  Dataset d;
  d.images = img;
  d.labels = lab.to(at::kLong);
  if (d.labels.numel() && d.labels.min().item<int64_t>() < 0) throw DataError(labels_path + ": negative label");
  d.num_classes = d.labels.numel() ? d.labels.max().item<int64_t>() + 1 : 0;
  return d;
}

}  // namespace qforge::data
