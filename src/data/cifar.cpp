// CIFAR binary format: records of <label byte(s)><3072 pixel bytes, CHW 32x32>.
#include <filesystem>

#include "file_bytes.h"
#include "qforge/data/dataset.h"

namespace qforge::data {

Dataset read_cifar(const std::string& root, bool cifar100, bool train) {
  std::vector<std::string> files;
  if (cifar100) files = {root + (train ? "/train.bin" : "/test.bin")};
  else if (train)
    for (int i = 1; i <= 5; ++i) files.push_back(root + "/data_batch_" + std::to_string(i) + ".bin");
  else files = {root + "/test_batch.bin"};
  const size_t label_bytes = cifar100 ? 2 : 1, record = label_bytes + 3072;
  std::vector<std::string> blobs;
  int64_t n = 0;
  for (const std::string& f : files) {
    blobs.push_back(read_bytes(f));
    if (blobs.back().size() % record != 0 || blobs.back().empty())
      throw DataError(f + ": " + std::to_string(blobs.back().size()) + " bytes is not a whole number of " +
                      std::to_string(record) + "-byte CIFAR records (truncated or not CIFAR)");
    n += static_cast<int64_t>(blobs.back().size() / record);
  }
  Dataset d;
  d.num_classes = cifar100 ? 100 : 10;
  d.images = at::empty({n, 3, 32, 32}, at::kByte);
  d.labels = at::empty({n}, at::kLong);
  uint8_t* img = d.images.data_ptr<uint8_t>();
  int64_t* lab = d.labels.data_ptr<int64_t>();
  int64_t i = 0;
  for (size_t k = 0; k < blobs.size(); ++k) {
    const std::string& b = blobs[k];
    for (size_t off = 0; off < b.size(); off += record, ++i) {
      lab[i] = static_cast<unsigned char>(b[off + label_bytes - 1]);  // CIFAR-100: fine label is the second byte
      if (lab[i] >= d.num_classes)
        throw DataError(files[k] + ": label " + std::to_string(lab[i]) + " of record " + std::to_string(off / record) + " is out of range");
      std::memcpy(img + i * 3072, b.data() + off + label_bytes, 3072);
    }
  }
  return d;
}

}  // namespace qforge::data
