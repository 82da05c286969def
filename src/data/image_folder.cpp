// ImageFolder: root/<class>/<image>, decoded with stb_image as RGB, resized and center-cropped to a square.
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>

#include "qforge/data/dataset.h"
#include "qforge/data/transforms.h"

namespace fs = std::filesystem;

namespace qforge::data {

namespace {
bool is_image(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return e == ".jpg" || e == ".jpeg" || e == ".png" || e == ".bmp";
}

std::vector<fs::path> sorted_entries(const fs::path& dir, bool dirs) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (dirs ? it->is_directory() : (it->is_regular_file() && is_image(it->path()))) out.push_back(it->path());
  }
  if (ec) throw DataError(dir.string() + ": cannot list: " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

// One image as uint8 [1, 3, size, size].
at::Tensor load_image(const std::string& path, int64_t size) {
  int w = 0, h = 0, ch = 0;
  unsigned char* px = stbi_load(path.c_str(), &w, &h, &ch, 3);
  if (!px) {
    const char* why = stbi_failure_reason();
    throw DataError(path + ": cannot decode image: " + (why ? why : "unknown reason"));
  }
  at::Tensor chw = at::empty({1, 3, h, w}, at::kByte);
  uint8_t* o = chw.data_ptr<uint8_t>();
  const size_t plane = static_cast<size_t>(h) * static_cast<size_t>(w);
  for (size_t i = 0; i < plane; ++i)
    for (size_t c = 0; c < 3; ++c) o[c * plane + i] = px[i * 3 + c];
  stbi_image_free(px);
  return resize_center_crop(chw, size, size);
}
}  // namespace

Dataset read_image_folder(const std::string& root, int64_t size) {
  if (size < 1) throw DataError(root + ": image size must be >= 1, got " + std::to_string(size));
  if (!fs::is_directory(root)) throw DataError(root + ": no such directory");
  const std::vector<fs::path> classes = sorted_entries(root, true);
  if (classes.empty()) throw DataError(root + ": no class folders (expected root/<class>/<images>)");
  std::vector<std::pair<std::string, int64_t>> files;
  for (size_t c = 0; c < classes.size(); ++c) {
    const std::vector<fs::path> f = sorted_entries(classes[c], false);
    if (f.empty()) throw DataError(classes[c].string() + ": class folder holds no .jpg/.jpeg/.png/.bmp images");
    for (const fs::path& p : f) files.emplace_back(p.string(), static_cast<int64_t>(c));
  }
  Dataset d;
  d.num_classes = static_cast<int64_t>(classes.size());
  const int64_t n = static_cast<int64_t>(files.size()), px = 3 * size * size;
  d.images = at::empty({n, 3, size, size}, at::kByte);
  d.labels = at::empty({n}, at::kLong);
  uint8_t* img = d.images.data_ptr<uint8_t>();
  int64_t* lab = d.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const at::Tensor x = load_image(files[static_cast<size_t>(i)].first, size);
    std::memcpy(img + i * px, x.data_ptr<uint8_t>(), static_cast<size_t>(px));
    lab[i] = files[static_cast<size_t>(i)].second;
  }
  return d;
}

}  // namespace qforge::data
