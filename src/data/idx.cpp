// IDX format (LeCun's MNIST files): big-endian magic (0x0801 labels, 0x0803 images), dims, bytes.
#include "file_bytes.h"
#include "qforge/data/dataset.h"

namespace qforge::data {

namespace {
uint32_t be32(const std::string& b, size_t off) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data() + off);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

std::string read_idx_file(const std::string& path, uint32_t magic, std::vector<int64_t>& dims) {
  std::string b = read_bytes(path);
  const size_t ndim = magic & 0xff;
  if (b.size() < 4 + 4 * ndim) throw DataError(path + ": truncated: " + std::to_string(b.size()) + " bytes is shorter than the IDX header");
  if (be32(b, 0) != magic)
    throw DataError(path + ": wrong magic number " + std::to_string(be32(b, 0)) + " (expected " + std::to_string(magic) +
                    (magic == 2051 ? ", an IDX image file)" : ", an IDX label file)"));
  size_t expect = 1;
  dims.clear();
  for (size_t i = 0; i < ndim; ++i) {
    dims.push_back(be32(b, 4 + 4 * i));
    expect *= static_cast<size_t>(dims.back());
  }
  const size_t header = 4 + 4 * ndim;
  if (b.size() - header != expect)
    throw DataError(path + ": " + (b.size() - header < expect ? "truncated" : "has trailing data") + ": header promises " +
                    std::to_string(expect) + " bytes of data but the file holds " + std::to_string(b.size() - header));
  return b.substr(header);
}
}  // namespace

Dataset read_idx(const std::string& images_path, const std::string& labels_path, int64_t num_classes) {
  std::vector<int64_t> idims, ldims;
  std::string img = read_idx_file(images_path, 2051, idims);
  std::string lab = read_idx_file(labels_path, 2049, ldims);
  if (idims[0] != ldims[0])
    throw DataError(images_path + ": holds " + std::to_string(idims[0]) + " images but " + labels_path + " holds " +
                    std::to_string(ldims[0]) + " labels");
  Dataset d;
  d.num_classes = num_classes;
  d.images = at::empty({idims[0], 1, idims[1], idims[2]}, at::kByte);
  std::memcpy(d.images.data_ptr(), img.data(), img.size());
  d.labels = at::empty({ldims[0]}, at::kLong);
  int64_t* l = d.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < ldims[0]; ++i) {
    l[i] = static_cast<unsigned char>(lab[static_cast<size_t>(i)]);
    if (l[i] >= num_classes)
      throw DataError(labels_path + ": label " + std::to_string(l[i]) + " of example " + std::to_string(i) +
                      " is out of range (" + std::to_string(num_classes) + " classes)");
  }
  return d;
}

}  // namespace qforge::data
