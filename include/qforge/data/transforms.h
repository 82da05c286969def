// Batch transforms. Augmentations work on uint8 [B, C, H, W] before normalization; random ones take
// the generator so a batch's augmentation is a function of its seed only.
#pragma once
#include <ATen/ATen.h>

#include <random>
#include <vector>

namespace qforge::data {

struct TransformOptions {
  int64_t crop_padding = 0;  // random crop after zero-padding by this much; 0 = off
  bool hflip = false;        // random horizontal flip, p = 0.5
  int64_t resize = 0;        // bilinear resize of the shorter side; 0 = off
  int64_t center_crop = 0;   // center crop to this size; 0 = off
  std::vector<double> mean, std;  // per channel, applied to pixels / 255
};

at::Tensor random_crop(const at::Tensor& u8, int64_t padding, std::mt19937_64& rng);
at::Tensor random_hflip(const at::Tensor& u8, std::mt19937_64& rng);
at::Tensor resize_center_crop(const at::Tensor& u8, int64_t resize, int64_t crop);  // either may be 0
at::Tensor normalize(const at::Tensor& u8, const std::vector<double>& mean, const std::vector<double>& std);

}  // namespace qforge::data
