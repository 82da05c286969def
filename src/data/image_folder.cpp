// ImageFolder: root/<class>/<image>, decoded with stb_image, resized and center-cropped to a square.
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

#include <algorithm>
#include <filesystem>

#include "qforge/data/dataset.h"
#include "qforge/data/transforms.h"

namespace fs = std::filesystem;

namespace qforge::data {

namespace {
bool is_image(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), ::tolower);
  return e == ".jpg" || e == ".jpeg" || e == ".png" || e == ".bmp";
}
}  // namespace

Dataset read_image_folder(const std::string& root, int64_t size) {
  if (!fs::is_directory(root)) throw DataError(root + ": no such directory");
  std::vector<std::string> classes;
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory()) classes.push_back(e.path().filename().string());
  std::sort(classes.begin(), classes.end());
  if (classes.empty()) throw DataError(root + ": no class folders (expected root/<class>/<images>)");
  std::vector<std::pair<std::string, int64_t>> files;
  for (size_t c = 0; c < classes.size(); ++c) {
    std::vector<std::string> f;
    for (const auto& e : fs::directory_iterator(fs::path(root) / classes[c]))
      if (e.is_regular_file() && is_image(e.path())) f.push_back(e.path().string());
    std::sort(f.begin(), f.end());
    for (auto& p : f) files.emplace_back(std::move(p), static_cast<int64_t>(c));
  }
  if (files.empty()) throw DataError(root + ": no images found");
  Dataset d;
  d.num_classes = static_cast<int64_t>(classes.size());
  const int64_t n = static_cast<int64_t>(files.size());
  d.images = at::empty({n, 3, size, size}, at::kByte);
  d.labels = at::empty({n}, at::kLong);
  for (int64_t i = 0; i < n; ++i) {
    int w = 0, h = 0, ch = 0;
    unsigned char* px = stbi_load(files[i].first.c_str(), &w, &h, &ch, 3);
    if (!px) throw DataError(files[i].first + ": cannot decode image: " + stbi_failure_reason());
    at::Tensor img = at::from_blob(px, {h, w, 3}, at::kByte).permute({2, 0, 1}).unsqueeze(0).clone();
    stbi_image_free(px);
    d.images[i].copy_(resize_center_crop(img, size, size)[0]);
    d.labels[i] = files[i].second;
  }
  return d;
}

}  // namespace qforge::data
