#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#include <ATen/ATen.h>

#include "data_test_util.h"
#include "qforge/data/dataset.h"

using namespace qforge::data;
using namespace qforge::data::testing;

namespace {
// A solid-color w x h PNG with `comp` channels (1 = gray, 3 = RGB).
void write_png(const std::string& path, int w, int h, int comp, std::array<uint8_t, 3> rgb) {
  std::vector<uint8_t> px(static_cast<size_t>(w * h * comp));
  for (size_t i = 0; i < px.size(); ++i) px[i] = rgb[i % comp];
  ASSERT_NE(stbi_write_png(path.c_str(), w, h, comp, px.data(), w * comp), 0) << path;
}
}  // namespace

TEST(DataImageFolder, ClassesSortedImagesResizedToSquare) {
  const std::string root = temp_dir();
  fs::create_directories(root + "/zebra");
  fs::create_directories(root + "/ant");
  write_png(root + "/zebra/b.png", 12, 6, 3, {200, 100, 50});  // wide: shorter side -> 4, then crop
  write_png(root + "/zebra/a.PNG", 5, 9, 1, {77, 0, 0});       // gray, tall
  write_png(root + "/ant/x.png", 4, 4, 3, {1, 2, 3});
  write_file(root + "/ant/notes.txt", "not an image, skipped");
  const Dataset d = read_image_folder(root, 4);
  EXPECT_EQ(d.num_classes, 2);
  ASSERT_EQ(d.size(), 3);
  EXPECT_EQ(d.images.sizes(), (std::vector<int64_t>{3, 3, 4, 4}));
  EXPECT_EQ(d.labels[0].item<int64_t>(), 0);  // ant/x.png
  EXPECT_EQ(d.labels[1].item<int64_t>(), 1);  // zebra/a.PNG (sorted by file name)
  EXPECT_EQ(d.labels[2].item<int64_t>(), 1);  // zebra/b.png
  // Solid colors stay solid through the bilinear resize; gray is replicated to RGB.
  EXPECT_TRUE(at::equal(d.images[0][2], at::full({4, 4}, 3, at::kByte)));
  EXPECT_TRUE(at::equal(d.images[1], at::full({3, 4, 4}, 77, at::kByte)));
  EXPECT_TRUE(at::equal(d.images[2][0], at::full({4, 4}, 200, at::kByte)));
  EXPECT_TRUE(at::equal(d.images[2][1], at::full({4, 4}, 100, at::kByte)));
}

TEST(DataImageFolder, TrainAndValByName) {
  const std::string root = temp_dir();
  for (const char* split : {"train", "val"}) {
    fs::create_directories(root + "/" + split + "/cat");
    write_png(root + "/" + split + "/cat/1.png", 300, 250, 3, {9, 8, 7});
  }
  const Dataset d = load_dataset("imagefolder", root, false);
  EXPECT_EQ(d.name, "imagefolder");
  EXPECT_EQ(d.images.sizes(), (std::vector<int64_t>{1, 3, 224, 224}));
}

TEST(DataImageFolder, BadInputsNameTheFile) {
  const std::string root = temp_dir();
  expect_data_error([&] { read_image_folder(root + "/none", 8); }, {root + "/none", "no such directory"});
  expect_data_error([&] { read_image_folder(root, 8); }, {root, "no class folders"});
  fs::create_directories(root + "/a");
  fs::create_directories(root + "/b");
  write_png(root + "/a/ok.png", 8, 8, 3, {1, 1, 1});
  expect_data_error([&] { read_image_folder(root, 8); }, {root + "/b", "no .jpg"});
  write_file(root + "/b/broken.jpg", "this is not a jpeg");
  expect_data_error([&] { read_image_folder(root, 8); }, {root + "/b/broken.jpg", "cannot decode image"});
  expect_data_error([&] { load_dataset("imagefolder", "", true); }, {"imagefolder", "data.root"});
}
