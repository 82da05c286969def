#include "qforge/data/transforms.h"

#include <stdexcept>

namespace qforge::data {

at::Tensor random_crop(const at::Tensor& u8, int64_t p, std::mt19937_64& rng) {
  if (p <= 0) return u8;
  const int64_t B = u8.size(0), C = u8.size(1), H = u8.size(2), W = u8.size(3);
  at::Tensor src = u8.contiguous();
  at::Tensor out = at::zeros_like(src);
  const uint8_t* s = src.data_ptr<uint8_t>();
  uint8_t* o = out.data_ptr<uint8_t>();
  std::uniform_int_distribution<int64_t> off(0, 2 * p);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t dy = off(rng) - p, dx = off(rng) - p;  // output(y, x) = input(y + dy, x + dx)
    const int64_t x0 = std::max<int64_t>(0, -dx), x1 = std::min(W, W - dx);
    if (x1 <= x0) continue;
    for (int64_t c = 0; c < C; ++c)
      for (int64_t y = std::max<int64_t>(0, -dy); y < std::min(H, H - dy); ++y)
        std::memcpy(o + ((b * C + c) * H + y) * W + x0, s + ((b * C + c) * H + y + dy) * W + x0 + dx,
                    static_cast<size_t>(x1 - x0));
  }
  return out;
}

at::Tensor random_hflip(const at::Tensor& u8, std::mt19937_64& rng) {
  at::Tensor out = u8.contiguous().clone();
  const int64_t B = out.size(0), rows = out.size(1) * out.size(2), W = out.size(3);
  uint8_t* o = out.data_ptr<uint8_t>();
  std::bernoulli_distribution coin(0.5);
  for (int64_t b = 0; b < B; ++b) {
    if (!coin(rng)) continue;
    for (int64_t r = 0; r < rows; ++r) std::reverse(o + (b * rows + r) * W, o + (b * rows + r + 1) * W);
  }
  return out;
}

at::Tensor resize_center_crop(const at::Tensor& u8, int64_t resize, int64_t crop) {
  at::Tensor x = u8;
  if (resize > 0) {
    const int64_t H = x.size(2), W = x.size(3);
    const int64_t nh = H <= W ? resize : (resize * H + W / 2) / W, nw = H <= W ? (resize * W + H / 2) / H : resize;
    if (nh != H || nw != W)
      x = at::upsample_bilinear2d(x.to(at::kFloat), {nh, nw}, false).round().clamp(0, 255).to(at::kByte);
  }
  if (crop > 0) {
    const int64_t H = x.size(2), W = x.size(3);
    if (crop > H || crop > W)
      throw std::invalid_argument("center crop " + std::to_string(crop) + " is larger than the image " + std::to_string(H) + "x" +
                                  std::to_string(W));
    x = x.narrow(2, (H - crop) / 2, crop).narrow(3, (W - crop) / 2, crop);
  }
  return x.contiguous();
}

at::Tensor normalize(const at::Tensor& u8, const std::vector<double>& mean, const std::vector<double>& std) {
  const int64_t B = u8.size(0), C = u8.size(1), HW = u8.size(2) * u8.size(3);
  if (static_cast<int64_t>(mean.size()) != C || static_cast<int64_t>(std.size()) != C)
    throw std::invalid_argument("normalize: " + std::to_string(mean.size()) + " mean / " + std::to_string(std.size()) +
                                " std values for " + std::to_string(C) + " channels");
  at::Tensor src = u8.contiguous();
  at::Tensor out = at::empty(src.sizes(), at::kFloat);
  const uint8_t* s = src.data_ptr<uint8_t>();
  float* o = out.data_ptr<float>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      const float scale = static_cast<float>(1.0 / (255.0 * std[c])), shift = static_cast<float>(-mean[c] / std[c]);
      const int64_t base = (b * C + c) * HW;
      for (int64_t i = 0; i < HW; ++i) o[base + i] = s[base + i] * scale + shift;
    }
  return out;
}

}  // namespace qforge::data
