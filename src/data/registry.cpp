// Datasets by name: where their files live and their usual normalization statistics.
#include <filesystem>

#include "file_bytes.h"
#include "qforge/data/dataset.h"

namespace qforge::data {

std::vector<std::string> dataset_names() { return {"fashion-mnist", "mnist", "cifar10", "cifar100", "imagefolder", "npy"}; }

Dataset load_dataset(const std::string& name, const std::string& root_in, bool train) {
  std::string root = root_in;
  Dataset d;
  if (name == "fashion-mnist" || name == "mnist") {
    if (root.empty()) root = "/usr/share/datasets/" + name;
    if (!std::filesystem::is_directory(root)) throw DataError(root + ": no such directory (" + name + " data root)");
    const std::string p = root + "/" + (train ? "train" : "t10k");
    const std::string images = existing_variant(p + "-images-idx3-ubyte");  // images first: the error names it
    d = read_idx(images, existing_variant(p + "-labels-idx1-ubyte"));
  } else if (name == "cifar10" || name == "cifar100") {
    if (root.empty()) throw DataError(name + ": set data.root to the folder with the CIFAR binary files");
    d = read_cifar(root, name == "cifar100", train);
  } else if (name == "imagefolder") {
    if (root.empty()) throw DataError("imagefolder: set data.root (root/train/<class>/..., root/val/<class>/...)");
    d = read_image_folder(root + (train ? "/train" : "/val"), 224);
  } else if (name == "npy") {
    if (root.empty()) throw DataError("npy: set data.root (root/{train,test}_{images,labels}.npy)");
    const std::string s = train ? "/train" : "/test";
    d = read_npy_dataset(root + s + "_images.npy", root + s + "_labels.npy");
  } else {
    std::string list;
    for (const std::string& n : dataset_names()) list += (list.empty() ? "" : ", ") + n;
    throw DataError("unknown dataset '" + name + "'; known: " + list);
  }
  d.name = name;
  return d;
}

NormalizeStats default_normalization(const std::string& name, int64_t channels) {
  NormalizeStats s;
  if (name == "fashion-mnist") s = {{0.2860}, {0.3530}};
  else if (name == "mnist") s = {{0.1307}, {0.3081}};
  else if (name == "cifar10") s = {{0.4914, 0.4822, 0.4465}, {0.2470, 0.2435, 0.2616}};
  else if (name == "cifar100") s = {{0.5071, 0.4865, 0.4409}, {0.2673, 0.2564, 0.2762}};
  else s = {{0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}};  // ImageNet: imagefolder, npy, unknown
  if (channels > 0 && static_cast<int64_t>(s.mean.size()) != channels) {  // e.g. grayscale data of an RGB-default name
    double m = 0, sd = 0;
    for (size_t i = 0; i < s.mean.size(); ++i) m += s.mean[i], sd += s.std[i];
    s.mean.assign(static_cast<size_t>(channels), m / static_cast<double>(s.mean.size()));
    s.std.assign(static_cast<size_t>(channels), sd / static_cast<double>(s.std.size()));
  }
  return s;
}

}  // namespace qforge::data
