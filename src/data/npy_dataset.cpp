// A dataset from two .npy files: images [N, C, H, W] (uint8, or float in [0, 1]) and integer labels [N].
#include <cmath>

#include "qforge/data/dataset.h"
#include "qforge/data/npy.h"

namespace qforge::data {

Dataset read_npy_dataset(const std::string& images_path, const std::string& labels_path) {
  at::Tensor img = read_npy(images_path);
  const at::Tensor lab = read_npy(labels_path);
  if (img.dim() == 3) img = img.unsqueeze(1);  // [N, H, W]: one channel
  const bool is_float = at::isFloatingType(img.scalar_type());
  if (img.dim() != 4 || !(img.scalar_type() == at::kByte || is_float))
    throw DataError(images_path + ": expected images [N, C, H, W] (or [N, H, W]) of uint8 or float in [0, 1], got " +
                    c10::toString(img.scalar_type()) + " " + c10::str(img.sizes()));
  if (is_float) {
    at::Tensor f = img.to(at::kFloat).contiguous();
    const float* p = f.data_ptr<float>();
    for (int64_t i = 0; i < f.numel(); ++i)
      if (!(p[i] >= 0.f && p[i] <= 1.f))
        throw DataError(images_path + ": float images must lie in [0, 1]; element " + std::to_string(i) + " is " +
                        std::to_string(p[i]));
    img = f.mul(255.0).round_().to(at::kByte);
  }
  if (lab.dim() != 1 || !at::isIntegralType(lab.scalar_type(), false))
    throw DataError(labels_path + ": expected integer labels [N], got " + c10::toString(lab.scalar_type()) + " " +
                    c10::str(lab.sizes()));
  if (lab.size(0) != img.size(0))
    throw DataError(images_path + " holds " + std::to_string(img.size(0)) + " images but " + labels_path + " holds " +
                    std::to_string(lab.size(0)) + " labels");
  Dataset d;
  d.images = img.contiguous();
  d.labels = lab.to(at::kLong).contiguous();
  const int64_t* l = d.labels.data_ptr<int64_t>();
  int64_t max = -1;
  for (int64_t i = 0; i < d.labels.numel(); ++i) {
    if (l[i] < 0) throw DataError(labels_path + ": label " + std::to_string(l[i]) + " of example " + std::to_string(i) + " is negative");
    max = std::max(max, l[i]);
  }
  d.num_classes = max + 1;
  return d;
}

}  // namespace qforge::data
