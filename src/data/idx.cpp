// IDX format (LeCun's MNIST files): big-endian magic (2049 = 0x801 labels, 2051 = 0x803 images:
// unsigned bytes, 1 or 3 dimensions), the dimensions as big-endian uint32, then the bytes.
#include <cstring>

#include "file_bytes.h"
#include "qforge/data/dataset.h"

namespace qforge::data {

namespace {
constexpr uint32_t kLabelMagic = 2049, kImageMagic = 2051;

uint32_t be32(const std::string& b, size_t off) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data() + off);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

struct IdxFile {
  std::string bytes;
  std::vector<int64_t> dims;
  size_t header = 0;  // offset of the data
};

IdxFile read_idx_file(const std::string& path, uint32_t magic) {
  IdxFile f;
  f.bytes = read_bytes(path);
  const std::string& b = f.bytes;
  const bool images = magic == kImageMagic;
  const char* kind = images ? "an IDX image file" : "an IDX label file";
  if (b.size() < 4) throw DataError(path + ": truncated: " + std::to_string(b.size()) + " bytes, not " + kind);
  if (be32(b, 0) != magic)
    throw DataError(path + ": wrong magic number " + std::to_string(be32(b, 0)) + " (expected " + std::to_string(magic) +
                    ", " + kind + ")");
  const size_t ndim = magic & 0xff;
  f.header = 4 + 4 * ndim;
  if (b.size() < f.header)
    throw DataError(path + ": truncated: " + std::to_string(b.size()) + " bytes is shorter than the " +
                    std::to_string(f.header) + "-byte IDX header");
  int64_t expect = 1;
  for (size_t i = 0; i < ndim; ++i) {
    f.dims.push_back(be32(b, 4 + 4 * i));
    expect = checked_mul(expect, f.dims.back(), path, "the size the IDX header promises");
  }
  const int64_t holds = static_cast<int64_t>(b.size() - f.header);
  if (holds != expect) {
    std::string promise;
    if (images)
      promise = std::to_string(f.dims[0]) + " images of " + std::to_string(f.dims[1]) + "x" + std::to_string(f.dims[2]);
    else
      promise = std::to_string(f.dims[0]) + " labels";
    throw DataError(path + ": " + (holds < expect ? "truncated" : "has trailing data") + ": header promises " + promise +
                    " (" + std::to_string(expect) + " bytes) but the file holds " + std::to_string(holds) + " bytes");
  }
  return f;
}
}  // namespace

Dataset read_idx(const std::string& images_path, const std::string& labels_path, int64_t num_classes) {
  if (num_classes < 1) throw DataError(labels_path + ": num_classes must be >= 1, got " + std::to_string(num_classes));
  const IdxFile img = read_idx_file(images_path, kImageMagic);
  const IdxFile lab = read_idx_file(labels_path, kLabelMagic);
  if (img.dims[0] != lab.dims[0])
    throw DataError(images_path + " holds " + std::to_string(img.dims[0]) + " images but " + labels_path + " holds " +
                    std::to_string(lab.dims[0]) + " labels");
  const int64_t n = img.dims[0];
  Dataset d;
  d.num_classes = num_classes;
  d.labels = at::empty({n}, at::kLong);
  int64_t* l = d.labels.data_ptr<int64_t>();
  const auto* lb = reinterpret_cast<const unsigned char*>(lab.bytes.data() + lab.header);
  for (int64_t i = 0; i < n; ++i) {
    l[i] = lb[i];
    if (l[i] >= num_classes)
      throw DataError(labels_path + ": label " + std::to_string(l[i]) + " of example " + std::to_string(i) +
                      " is out of range (" + std::to_string(num_classes) + " classes)");
  }
  d.images = at::empty({n, 1, img.dims[1], img.dims[2]}, at::kByte);
  if (d.images.numel()) std::memcpy(d.images.data_ptr(), img.bytes.data() + img.header, static_cast<size_t>(d.images.numel()));
  return d;
}

}  // namespace qforge::data
