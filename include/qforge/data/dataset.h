// Datasets held in memory as uint8 images [N, C, H, W] and int64 labels [N], and the readers that
// fill them. Every reader checks what it reads and throws DataError naming the file and the problem;
// none returns a silently short dataset.
#pragma once
#include <ATen/ATen.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace qforge::data {

struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Dataset {
  at::Tensor images;  // uint8 [N, C, H, W], contiguous
  at::Tensor labels;  // int64 [N], each in [0, num_classes)
  int64_t num_classes = 0;
  std::string name;
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

// IDX files (MNIST, Fashion-MNIST), raw or gzip-compressed.
Dataset read_idx(const std::string& images_path, const std::string& labels_path, int64_t num_classes = 10);
// CIFAR-10 (data_batch_1..5.bin / test_batch.bin) or CIFAR-100 (train.bin / test.bin, fine labels).
Dataset read_cifar(const std::string& root, bool cifar100, bool train);
// root/<class>/*.{jpg,jpeg,png,bmp}: classes sorted by name; each image decoded as RGB, resized
// (shorter side to `size`, bilinear) and center-cropped to size x size.
Dataset read_image_folder(const std::string& root, int64_t size);
// images.npy (uint8 [N,C,H,W], or float in [0, 1] scaled to 0..255; [N,H,W] means C = 1) +
// labels.npy (integer [N], >= 0; num_classes = max + 1).
Dataset read_npy_dataset(const std::string& images_path, const std::string& labels_path);

// By name: fashion-mnist, mnist (default root /usr/share/datasets/<name>), cifar10, cifar100,
// imagefolder (root/train, root/val, 224 x 224), npy (root/{train,test}_{images,labels}.npy).
Dataset load_dataset(const std::string& name, const std::string& root, bool train);
std::vector<std::string> dataset_names();

// The first n examples (0 <= n <= size), sharing storage with d.
Dataset subset(const Dataset& d, int64_t n);
// The first round(fraction * size) examples, 0 < fraction <= 1 (at least one when d is not empty).
Dataset subset_fraction(const Dataset& d, double fraction);

struct NormalizeStats {
  std::vector<double> mean, std;
};
// The usual per-channel statistics of a dataset (ImageNet's for imagefolder / unknown RGB data);
// averaged over channels when the data's channel count differs from the named dataset's.
NormalizeStats default_normalization(const std::string& name, int64_t channels);

}  // namespace qforge::data
