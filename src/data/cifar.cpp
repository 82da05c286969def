// CIFAR binary format: records of <label byte(s)><3072 pixel bytes, CHW 32x32>. CIFAR-10 has one
// label byte; CIFAR-100 has <coarse><fine> and the fine label is used.
#include <cstring>

#include "file_bytes.h"
#include "qforge/data/dataset.h"

namespace qforge::data {

Dataset read_cifar(const std::string& root, bool cifar100, bool train) {
  const std::string kind = cifar100 ? "CIFAR-100" : "CIFAR-10";
  std::vector<std::string> files;
  if (cifar100) files = {root + (train ? "/train.bin" : "/test.bin")};
  else if (train)
    for (int i = 1; i <= 5; ++i) files.push_back(root + "/data_batch_" + std::to_string(i) + ".bin");
  else files = {root + "/test_batch.bin"};
  const size_t label_bytes = cifar100 ? 2 : 1, pixels = 3 * 32 * 32, record = label_bytes + pixels;
  std::vector<std::string> blobs;
  int64_t n = 0;
  for (std::string& f : files) {
    f = existing_variant(f);
    blobs.push_back(read_bytes(f));
    const size_t size = blobs.back().size();
    if (size == 0) throw DataError(f + ": empty file, expected " + kind + " records");
    if (size % record != 0)
      throw DataError(f + ": truncated or not " + kind + ": " + std::to_string(size) + " bytes is not a whole number of " +
                      std::to_string(record) + "-byte records");
    n += static_cast<int64_t>(size / record);
  }
  Dataset d;
  d.num_classes = cifar100 ? 100 : 10;
  d.images = at::empty({n, 3, 32, 32}, at::kByte);
  d.labels = at::empty({n}, at::kLong);
  uint8_t* img = d.images.data_ptr<uint8_t>();
  int64_t* lab = d.labels.data_ptr<int64_t>();
  int64_t i = 0;
  for (size_t k = 0; k < blobs.size(); ++k) {
    const auto* b = reinterpret_cast<const unsigned char*>(blobs[k].data());
    const size_t records = blobs[k].size() / record;
    for (size_t r = 0; r < records; ++r, ++i) {
      const unsigned char* rec = b + r * record;
      if (cifar100 && rec[0] >= 20)
        throw DataError(files[k] + ": coarse label " + std::to_string(rec[0]) + " of record " + std::to_string(r) +
                        " is out of range (20 superclasses)");
      lab[i] = rec[label_bytes - 1];
      if (lab[i] >= d.num_classes)
        throw DataError(files[k] + ": label " + std::to_string(lab[i]) + " of record " + std::to_string(r) +
                        " is out of range (" + std::to_string(d.num_classes) + " classes)");
      std::memcpy(img + i * static_cast<int64_t>(pixels), rec + label_bytes, pixels);
    }
    std::string().swap(blobs[k]);  // release as we go
  }
  return d;
}

}  // namespace qforge::data
