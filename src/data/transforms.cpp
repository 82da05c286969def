// Batch transforms on uint8 [B, C, H, W]: plain loops over memory (no ATen kernels), so the loader's
// worker threads stay off libtorch's intra-op thread pool.
#include "qforge/data/transforms.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "qforge/data/dataset.h"
#include "rng.h"

namespace qforge::data {

namespace {
void check_batch(const at::Tensor& t, const char* op) {
  if (!t.defined() || t.dim() != 4 || t.scalar_type() != at::kByte)
    throw DataError(std::string(op) + ": expected a uint8 [B, C, H, W] batch, got " +
                    (t.defined() ? std::string(c10::toString(t.scalar_type())) + " " + c10::str(t.sizes()) : "undefined"));
}

// Per output coordinate of a bilinear resize (align_corners = false, as torch's upsample_bilinear2d):
// the two source indices and the weight of the second.
struct Tap {
  int64_t i0, i1;
  float w1;
};
std::vector<Tap> taps(int64_t in, int64_t out, int64_t first, int64_t count) {
  std::vector<Tap> t(static_cast<size_t>(count));
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int64_t k = 0; k < count; ++k) {
    float src = scale * (static_cast<float>(first + k) + 0.5f) - 0.5f;
    if (src < 0) src = 0;
    int64_t i0 = std::min<int64_t>(static_cast<int64_t>(src), in - 1);
    t[static_cast<size_t>(k)] = {i0, i0 + (i0 < in - 1 ? 1 : 0), src - static_cast<float>(i0)};
  }
  return t;
}
}  // namespace

at::Tensor random_crop(const at::Tensor& u8, int64_t p, std::mt19937_64& rng) {
  check_batch(u8, "random_crop");
  if (p <= 0) return u8;
  const int64_t B = u8.size(0), C = u8.size(1), H = u8.size(2), W = u8.size(3);
  const at::Tensor src = u8.contiguous();
  at::Tensor out = at::empty(src.sizes(), at::kByte);
  const uint8_t* s = src.data_ptr<uint8_t>();
  uint8_t* o = out.data_ptr<uint8_t>();
  if (out.numel()) std::memset(o, 0, static_cast<size_t>(out.numel()));
  for (int64_t b = 0; b < B; ++b) {
    // Crop window's top-left corner in the padded image, uniform in [0, 2p]; output(y, x) = input(y + dy, x + dx).
    const int64_t dy = static_cast<int64_t>(detail::uniform_below(rng, 2 * p + 1)) - p;
    const int64_t dx = static_cast<int64_t>(detail::uniform_below(rng, 2 * p + 1)) - p;
    const int64_t x0 = std::max<int64_t>(0, -dx), x1 = std::min(W, W - dx);
    const int64_t y0 = std::max<int64_t>(0, -dy), y1 = std::min(H, H - dy);
    if (x1 <= x0 || y1 <= y0) continue;
    for (int64_t c = 0; c < C; ++c)
      for (int64_t y = y0; y < y1; ++y)
        std::memcpy(o + ((b * C + c) * H + y) * W + x0, s + ((b * C + c) * H + y + dy) * W + x0 + dx,
                    static_cast<size_t>(x1 - x0));
  }
  return out;
}

at::Tensor random_hflip(const at::Tensor& u8, std::mt19937_64& rng) {
  check_batch(u8, "random_hflip");
  const at::Tensor src = u8.contiguous();
  at::Tensor out = at::empty(src.sizes(), at::kByte);
  const int64_t B = src.size(0), rows = src.size(1) * src.size(2), W = src.size(3), n = rows * W;
  const uint8_t* s = src.data_ptr<uint8_t>();
  uint8_t* o = out.data_ptr<uint8_t>();
  for (int64_t b = 0; b < B; ++b) {
    const bool flip = (rng() >> 63) != 0;  // p = 0.5
    if (!flip) {
      if (n) std::memcpy(o + b * n, s + b * n, static_cast<size_t>(n));
      continue;
    }
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t* sr = s + b * n + r * W;
      uint8_t* orow = o + b * n + r * W;
      for (int64_t x = 0; x < W; ++x) orow[x] = sr[W - 1 - x];
    }
  }
  return out;
}

at::Tensor resize_center_crop(const at::Tensor& u8, int64_t resize, int64_t crop) {
  check_batch(u8, "resize_center_crop");
  if (resize < 0 || crop < 0)
    throw DataError("resize_center_crop: sizes must be >= 0, got resize " + std::to_string(resize) + ", crop " +
                    std::to_string(crop));
  const int64_t B = u8.size(0), C = u8.size(1), H = u8.size(2), W = u8.size(3);
  // Resized size: shorter side to `resize`, longer side scaled to keep the aspect ratio (rounded).
  int64_t rh = H, rw = W;
  if (resize > 0 && H > 0 && W > 0) {
    if (H <= W) rh = resize, rw = std::max<int64_t>(1, (resize * W + H / 2) / H);
    else rw = resize, rh = std::max<int64_t>(1, (resize * H + W / 2) / W);
  }
  const int64_t oh = crop > 0 ? crop : rh, ow = crop > 0 ? crop : rw;
  if (oh > rh || ow > rw)
    throw DataError("center crop " + std::to_string(crop) + " is larger than the " + (resize > 0 ? "resized " : "") +
                    "image " + std::to_string(rh) + "x" + std::to_string(rw));
  const int64_t top = (rh - oh) / 2, left = (rw - ow) / 2;
  if (rh == H && rw == W && oh == H && ow == W) return u8.contiguous();
  const at::Tensor src = u8.contiguous();
  at::Tensor out = at::empty({B, C, oh, ow}, at::kByte);
  const uint8_t* s = src.data_ptr<uint8_t>();
  uint8_t* o = out.data_ptr<uint8_t>();
  if (rh == H && rw == W) {  // crop only
    for (int64_t p = 0; p < B * C; ++p)
      for (int64_t y = 0; y < oh; ++y)
        std::memcpy(o + (p * oh + y) * ow, s + (p * H + top + y) * W + left, static_cast<size_t>(ow));
    return out;
  }
  const std::vector<Tap> ty = taps(H, rh, top, oh), tx = taps(W, rw, left, ow);
  std::vector<float> row(static_cast<size_t>(ow));
  for (int64_t p = 0; p < B * C; ++p) {
    const uint8_t* plane = s + p * H * W;
    for (int64_t y = 0; y < oh; ++y) {
      const Tap& a = ty[static_cast<size_t>(y)];
      const uint8_t* r0 = plane + a.i0 * W;
      const uint8_t* r1 = plane + a.i1 * W;
      uint8_t* orow = o + (p * oh + y) * ow;
      for (int64_t x = 0; x < ow; ++x) {
        const Tap& b = tx[static_cast<size_t>(x)];
        const float top_v = r0[b.i0] + b.w1 * (r0[b.i1] - r0[b.i0]);
        const float bot_v = r1[b.i0] + b.w1 * (r1[b.i1] - r1[b.i0]);
        const float v = top_v + a.w1 * (bot_v - top_v);
        orow[x] = static_cast<uint8_t>(std::min(255.0f, std::max(0.0f, std::nearbyint(v))));
      }
    }
  }
  return out;
}

at::Tensor normalize(const at::Tensor& u8, const std::vector<double>& mean, const std::vector<double>& std) {
  check_batch(u8, "normalize");
  const int64_t B = u8.size(0), C = u8.size(1), HW = u8.size(2) * u8.size(3);
  if (static_cast<int64_t>(mean.size()) != C || static_cast<int64_t>(std.size()) != C)
    throw DataError("normalize: " + std::to_string(mean.size()) + " mean / " + std::to_string(std.size()) +
                    " std values for " + std::to_string(C) + " channels");
  for (double s : std)
    if (!(s > 0)) throw DataError("normalize: std values must be > 0, got " + std::to_string(s));
  const at::Tensor src = u8.contiguous();
  at::Tensor out = at::empty(src.sizes(), at::kFloat);
  const uint8_t* s = src.data_ptr<uint8_t>();
  float* o = out.data_ptr<float>();
  for (int64_t c = 0; c < C; ++c) {
    // (v / 255 - mean) / std, by a 256-entry table.
    float lut[256];
    for (int v = 0; v < 256; ++v) lut[v] = static_cast<float>((v / 255.0 - mean[c]) / std[c]);
    for (int64_t b = 0; b < B; ++b) {
      const int64_t base = (b * C + c) * HW;
      for (int64_t i = 0; i < HW; ++i) o[base + i] = lut[s[base + i]];
    }
  }
  return out;
}

}  // namespace qforge::data
