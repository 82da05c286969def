#include <ATen/ATen.h>

#include "data_test_util.h"
#include "qforge/data/dataset.h"

using namespace qforge::data;
using namespace qforge::data::testing;

namespace {
void be32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

struct Idx {
  int n = 12, h = 3, w = 2;
  uint32_t image_magic = 2051, label_magic = 2049;
  int cut_images = 0, cut_labels = 0;  // bytes removed from the end
  int label_count = -1;                // -1: n
  int bad_label_at = -1;               // this example gets label 42
  // n images of h x w with every pixel = index, labels = index % 10.
  void write(const std::string& stem, bool gz) const {
    std::string img, lab;
    be32(img, image_magic), be32(img, n), be32(img, h), be32(img, w);
    for (int i = 0; i < n * h * w; ++i) img.push_back(static_cast<char>(i / (h * w)));
    img.resize(img.size() - cut_images);
    const int nl = label_count < 0 ? n : label_count;
    be32(lab, label_magic), be32(lab, nl);
    for (int i = 0; i < nl; ++i) lab.push_back(static_cast<char>(i == bad_label_at ? 42 : i % 10));
    lab.resize(lab.size() - cut_labels);
    if (gz) {
      write_gz(stem + "-images-idx3-ubyte.gz", img);
      write_gz(stem + "-labels-idx1-ubyte.gz", lab);
    } else {
      write_file(stem + "-images-idx3-ubyte", img);
      write_file(stem + "-labels-idx1-ubyte", lab);
    }
  }
};

Dataset read(const std::string& stem, bool gz) {
  const std::string ext = gz ? ".gz" : "";
  return read_idx(stem + "-images-idx3-ubyte" + ext, stem + "-labels-idx1-ubyte" + ext);
}
}  // namespace

TEST(DataIdx, RealFashionMnist) {
  if (!fs::is_directory("/usr/share/datasets/fashion-mnist")) GTEST_SKIP() << "no /usr/share/datasets/fashion-mnist";
  const Dataset tr = load_dataset("fashion-mnist", "", true), te = load_dataset("fashion-mnist", "", false);
  EXPECT_EQ(tr.name, "fashion-mnist");
  EXPECT_EQ(tr.num_classes, 10);
  EXPECT_EQ(tr.size(), 60000);
  EXPECT_EQ(te.size(), 10000);
  EXPECT_EQ(tr.images.sizes(), (std::vector<int64_t>{60000, 1, 28, 28}));
  EXPECT_EQ(te.images.sizes(), (std::vector<int64_t>{10000, 1, 28, 28}));
  EXPECT_EQ(tr.images.scalar_type(), at::kByte);
  EXPECT_EQ(tr.labels.scalar_type(), at::kLong);
  EXPECT_EQ(tr.labels.min().item<int64_t>(), 0);
  EXPECT_EQ(tr.labels.max().item<int64_t>(), 9);
  for (int64_t c = 0; c < 10; ++c) {  // balanced classes
    EXPECT_EQ((tr.labels == c).sum().item<int64_t>(), 6000);
    EXPECT_EQ((te.labels == c).sum().item<int64_t>(), 1000);
  }
  // Mean pixel matches the published normalization statistic.
  EXPECT_NEAR(tr.images.to(at::kDouble).mean().item<double>() / 255.0, 0.2860, 5e-4);
}

TEST(DataIdx, RawAndGzipRoundTrip) {
  const std::string d = temp_dir();
  Idx{}.write(d + "/raw", false);
  Idx{}.write(d + "/gz", true);
  const Dataset a = read(d + "/raw", false), g = read(d + "/gz", true);
  EXPECT_EQ(a.images.sizes(), (std::vector<int64_t>{12, 1, 3, 2}));
  EXPECT_EQ(a.labels.sizes(), (std::vector<int64_t>{12}));
  EXPECT_TRUE(at::equal(a.images, g.images));
  EXPECT_TRUE(at::equal(a.labels, g.labels));
  EXPECT_EQ(a.images[7][0][2][1].item<int>(), 7);
  EXPECT_EQ(a.labels[11].item<int64_t>(), 1);
  EXPECT_EQ(a.num_classes, 10);
  // load_dataset finds the .gz variant of the standard names under a custom root.
  Idx{}.write(d + "/train", true);
  const Dataset m = load_dataset("mnist", d, true);
  EXPECT_EQ(m.name, "mnist");
  EXPECT_TRUE(at::equal(m.images, a.images));
}

TEST(DataIdx, BadInputsNameTheFileAndProblem) {
  const std::string d = temp_dir();
  expect_data_error([&] { read_idx(d + "/none-images", d + "/none-labels"); }, {d + "/none-images", "no such file"});
  {
    Idx x;
    x.image_magic = 1234;
    x.write(d + "/magic", false);
    expect_data_error([&] { read(d + "/magic", false); }, {"magic-images-idx3-ubyte", "wrong magic number 1234", "2051"});
  }
  {
    Idx x;
    x.label_magic = 2051;  // images and labels swapped
    x.write(d + "/lmagic", false);
    expect_data_error([&] { read(d + "/lmagic", false); }, {"lmagic-labels-idx1-ubyte", "wrong magic number 2051", "2049"});
  }
  {
    Idx x;
    x.n = 4, x.h = 2, x.w = 2, x.cut_images = 5;
    x.write(d + "/trunc", false);
    expect_data_error([&] { read(d + "/trunc", false); },
                      {"trunc-images-idx3-ubyte", "truncated: header promises 4 images of 2x2 (16 bytes) but the file holds 11 bytes"});
    x.write(d + "/truncgz", true);
    expect_data_error([&] { read(d + "/truncgz", true); }, {"truncgz-images-idx3-ubyte.gz", "truncated"});
  }
  {
    Idx x;
    x.cut_labels = 1;
    x.write(d + "/ltrunc", false);
    expect_data_error([&] { read(d + "/ltrunc", false); }, {"ltrunc-labels-idx1-ubyte", "truncated", "12 labels"});
  }
  {
    Idx x;
    x.cut_images = 12 * 6 + 8;  // cut into the header
    x.write(d + "/header", false);
    expect_data_error([&] { read(d + "/header", false); }, {"header-images-idx3-ubyte", "truncated", "header"});
  }
  {
    Idx x;
    x.label_count = 3;
    x.write(d + "/count", false);
    expect_data_error([&] { read(d + "/count", false); }, {"count-images-idx3-ubyte", "count-labels-idx1-ubyte", "12 images", "3 labels"});
  }
  {
    Idx x;
    x.bad_label_at = 2;
    x.write(d + "/label", false);
    expect_data_error([&] { read(d + "/label", false); }, {"label-labels-idx1-ubyte", "label 42 of example 2", "out of range"});
  }
  {  // a gzip stream cut in the middle
    Idx{}.write(d + "/gzcut", true);
    std::string gz = read_file(d + "/gzcut-images-idx3-ubyte.gz");
    write_file(d + "/gzcut-images-idx3-ubyte.gz", gz.substr(0, gz.size() / 2));
    expect_data_error([&] { read(d + "/gzcut", true); }, {"gzcut-images-idx3-ubyte.gz"});
  }
  {  // trailing bytes are an error too: the header is wrong about something
    Idx{}.write(d + "/trail", false);
    write_file(d + "/trail-labels-idx1-ubyte", read_file(d + "/trail-labels-idx1-ubyte") + "xx");
    expect_data_error([&] { read(d + "/trail", false); }, {"trail-labels-idx1-ubyte", "trailing data"});
  }
  expect_data_error([&] { load_dataset("mnist", d + "/nowhere", true); }, {d + "/nowhere", "no such directory"});
  expect_data_error([&] { load_dataset("mnist", d, false); }, {d + "/t10k-images-idx3-ubyte", "no such file"});
}

TEST(DataIdx, UnknownDatasetListsTheNames) {
  expect_data_error([&] { load_dataset("imagenet21k", "", true); },
                    {"imagenet21k", "fashion-mnist", "mnist", "cifar10", "cifar100", "imagefolder", "npy"});
}
