// Batch transforms. Augmentations work on uint8 [B, C, H, W] before normalization; random ones take
// the generator so a batch's augmentation is a function of its seed only. All are plain loops over
// memory (safe and cheap on loader worker threads) and throw DataError on bad arguments.
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

// Zero-pad by `padding` on every side, then crop back to H x W at a random offset per sample.
at::Tensor random_crop(const at::Tensor& u8, int64_t padding, std::mt19937_64& rng);
// Mirror each sample left-right with probability 0.5.
at::Tensor random_hflip(const at::Tensor& u8, std::mt19937_64& rng);
// Bilinear resize (shorter side to `resize`, align_corners = false), then center crop to crop x crop;
// either may be 0 (= skip).
at::Tensor resize_center_crop(const at::Tensor& u8, int64_t resize, int64_t crop);
// float [B, C, H, W] = (u8 / 255 - mean[c]) / std[c].
at::Tensor normalize(const at::Tensor& u8, const std::vector<double>& mean, const std::vector<double>& std);

}  // namespace qforge::data
