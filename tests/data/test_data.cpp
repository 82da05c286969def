#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "qforge/data/dataset.h"
#include "qforge/data/loader.h"
#include "qforge/data/npy.h"
#include "qforge/data/transforms.h"

using namespace qforge;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {
std::string dir() {
  static std::string d = [] {
    fs::path p = fs::temp_directory_path() / ("qf_data_" + std::to_string(::getpid()));
    fs::create_directories(p);
    return p.string();
  }();
  return d;
}

void be32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// n images of h x w with pixel = index, labels = index % 10.
void write_idx(const std::string& stem, int n, int h, int w, bool gz, uint32_t img_magic = 2051, int truncate = 0,
               int label_count = -1, int bad_label_at = -1) {
  std::string img, lab;
  be32(img, img_magic), be32(img, n), be32(img, h), be32(img, w);
  for (int i = 0; i < n * h * w; ++i) img.push_back(static_cast<char>(i / (h * w)));
  img.resize(img.size() - truncate);
  int nl = label_count < 0 ? n : label_count;
  be32(lab, 2049), be32(lab, nl);
  for (int i = 0; i < nl; ++i) lab.push_back(static_cast<char>(i == bad_label_at ? 42 : i % 10));
  auto write = [&](const std::string& path, const std::string& data) {
    if (gz) {
      gzFile f = gzopen((path + ".gz").c_str(), "wb");
      gzwrite(f, data.data(), static_cast<unsigned>(data.size()));
      gzclose(f);
    } else {
      std::ofstream(path, std::ios::binary) << data;
    }
  };
  write(stem + "-images-idx3-ubyte", img);
  write(stem + "-labels-idx1-ubyte", lab);
}

void expect_data_error(const std::function<void()>& f, const std::string& file, const std::string& what) {
  try {
    f();
    FAIL() << "no error; expected " << what;
  } catch (const data::DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr(file));
    EXPECT_THAT(e.what(), HasSubstr(what));
  }
}

data::Dataset synthetic(int n) {
  data::Dataset d;
  d.images = torch::arange(n, at::kLong).to(at::kByte).view({n, 1, 1, 1}).expand({n, 1, 4, 4}).contiguous();
  d.labels = torch::arange(n, at::kLong) % 10;
  d.num_classes = 10;
  d.name = "synthetic";
  return d;
}

std::vector<int64_t> epoch_ids(data::DataLoader& l, int64_t epoch) {
  std::vector<int64_t> ids;
  l.start_epoch(epoch);
  data::Batch b;
  while (l.next(b)) {
    // pixel value encodes the example index; undo normalization with mean 0, std 1/255
    for (int64_t i = 0; i < b.images.size(0); ++i) ids.push_back(std::lround(b.images[i][0][0][0].item<float>()));
  }
  return ids;
}
}  // namespace

TEST(Data, RealFashionMnist) {
  if (!fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) GTEST_SKIP();
  data::Dataset tr = data::load_dataset("fashion-mnist", "", true), te = data::load_dataset("fashion-mnist", "", false);
  EXPECT_EQ(tr.size(), 60000);
  EXPECT_EQ(te.size(), 10000);
  EXPECT_EQ(tr.images.sizes(), (std::vector<int64_t>{60000, 1, 28, 28}));
  EXPECT_EQ(tr.labels.max().item<int64_t>(), 9);
  EXPECT_EQ((tr.labels == 3).sum().item<int64_t>(), 6000);  // balanced classes
}

TEST(Data, IdxRawAndGzipRoundTrip) {
  write_idx(dir() + "/raw", 12, 3, 2, false);
  write_idx(dir() + "/gz", 12, 3, 2, true);
  data::Dataset a = data::read_idx(dir() + "/raw-images-idx3-ubyte", dir() + "/raw-labels-idx1-ubyte");
  data::Dataset g = data::read_idx(dir() + "/gz-images-idx3-ubyte.gz", dir() + "/gz-labels-idx1-ubyte.gz");
  EXPECT_TRUE(at::equal(a.images, g.images));
  EXPECT_EQ(a.images[7][0][2][1].item<int>(), 7);
  EXPECT_EQ(a.labels[11].item<int64_t>(), 1);
}

TEST(Data, IdxBadInputsNameTheFile) {
  const std::string d = dir();
  expect_data_error([&] { data::read_idx(d + "/none-images", d + "/none-labels"); }, d + "/none-images", "no such file");
  write_idx(d + "/magic", 4, 2, 2, false, 1234);
  expect_data_error([&] { data::read_idx(d + "/magic-images-idx3-ubyte", d + "/magic-labels-idx1-ubyte"); },
                    "magic-images", "wrong magic number");
  write_idx(d + "/trunc", 4, 2, 2, true, 2051, 5);
  expect_data_error([&] { data::read_idx(d + "/trunc-images-idx3-ubyte.gz", d + "/trunc-labels-idx1-ubyte.gz"); },
                    "trunc-images", "truncated");
  write_idx(d + "/count", 4, 2, 2, false, 2051, 0, 3);
  expect_data_error([&] { data::read_idx(d + "/count-images-idx3-ubyte", d + "/count-labels-idx1-ubyte"); },
                    "count-labels", "3 labels");
  write_idx(d + "/label", 4, 2, 2, false, 2051, 0, -1, 2);
  expect_data_error([&] { data::read_idx(d + "/label-images-idx3-ubyte", d + "/label-labels-idx1-ubyte"); },
                    "label-labels", "out of range");
  expect_data_error([&] { data::load_dataset("imagenet21k", "", true); }, "imagenet21k", "fashion-mnist");
}

TEST(Data, CifarRecordsAndTruncation) {
  const std::string root = dir() + "/cifar";
  fs::create_directories(root);
  std::string rec(3073, '\0');
  rec[0] = 7;
  rec[1 + 1024] = 99;  // green channel, first pixel
  std::ofstream(root + "/test_batch.bin", std::ios::binary) << rec << rec;
  data::Dataset d = data::read_cifar(root, false, false);
  EXPECT_EQ(d.size(), 2);
  EXPECT_EQ(d.labels[1].item<int64_t>(), 7);
  EXPECT_EQ(d.images[0][1][0][0].item<int>(), 99);
  std::ofstream(root + "/test_batch.bin", std::ios::binary) << rec.substr(0, 100);
  expect_data_error([&] { data::read_cifar(root, false, false); }, "test_batch.bin", "truncated");
}

TEST(Data, NpyRoundTripAndErrors) {
  for (auto t : {at::kFloat, at::kDouble, at::kLong, at::kInt, at::kByte, at::kChar, at::kBool}) {
    at::Tensor x = (torch::rand({2, 3, 5}) * 100).to(t);
    std::string p = dir() + "/x.npy";
    data::write_npy(p, x);
    EXPECT_TRUE(at::equal(data::read_npy(p), x)) << c10::toString(t);
  }
  data::write_npy(dir() + "/v.npy", torch::arange(3));
  EXPECT_EQ(data::read_npy(dir() + "/v.npy").sizes(), (std::vector<int64_t>{3}));
  std::ofstream(dir() + "/bad.npy") << "not numpy";
  expect_data_error([&] { data::read_npy(dir() + "/bad.npy"); }, "bad.npy", "bad magic");
  std::string good;
  {
    std::ifstream f(dir() + "/v.npy", std::ios::binary);
    good.assign(std::istreambuf_iterator<char>(f), {});
  }
  std::ofstream(dir() + "/short.npy", std::ios::binary) << good.substr(0, good.size() - 4);
  expect_data_error([&] { data::read_npy(dir() + "/short.npy"); }, "short.npy", "truncated");
}

TEST(Data, LoaderDeterministicAcrossWorkerCounts) {
  data::Dataset d = synthetic(103);
  auto opts = [](int workers) {
    data::LoaderOptions o;
    o.batch_size = 10;
    o.shuffle = true;
    o.seed = 5;
    o.workers = workers;
    o.transforms.mean = {0.0};
    o.transforms.std = {1.0 / 255.0};
    return o;
  };
  data::DataLoader a(d, opts(0)), b(d, opts(1)), c(d, opts(3));
  std::vector<int64_t> e0 = epoch_ids(a, 0);
  EXPECT_EQ(e0, epoch_ids(b, 0));
  EXPECT_EQ(e0, epoch_ids(c, 0));
  EXPECT_NE(e0, epoch_ids(a, 1));
  std::vector<int64_t> sorted = e0;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 103; ++i) EXPECT_EQ(sorted[i], i % 256);  // every example once
  EXPECT_EQ(a.num_batches(), 11);
  auto dl = opts(2);
  dl.drop_last = true;
  data::DataLoader last(d, dl);
  EXPECT_EQ(last.num_batches(), 10);
  EXPECT_EQ(epoch_ids(last, 0).size(), 100u);
}

TEST(Data, LoaderStopsEarlyWithoutHanging) {
  data::LoaderOptions o;
  o.batch_size = 4;
  o.workers = 3;
  o.prefetch = 2;
  {
    data::DataLoader l(synthetic(100), o);
    data::Batch b;
    ASSERT_TRUE(l.next(b));
    l.start_epoch(1);
    ASSERT_TRUE(l.next(b));
  }  // destroyed mid-epoch
  SUCCEED();
}

TEST(Data, Transforms) {
  std::mt19937_64 rng(1);
  at::Tensor x = torch::randint(0, 255, {6, 2, 5, 7}).to(at::kByte);
  std::mt19937_64 r1(3), r2(3);
  at::Tensor f = data::random_hflip(x, r1);
  EXPECT_TRUE(at::equal(data::random_hflip(f, r2), x));  // same coins: flipped twice
  at::Tensor c = data::random_crop(x, 2, rng);
  EXPECT_EQ(c.sizes(), x.sizes());
  at::Tensor n = data::normalize(torch::full({1, 1, 1, 2}, 51).to(at::kByte), {0.5}, {0.25});
  EXPECT_NEAR(n[0][0][0][0].item<float>(), (0.2 - 0.5) / 0.25, 1e-6);
  EXPECT_EQ(data::resize_center_crop(x, 10, 8).sizes(), (std::vector<int64_t>{6, 2, 8, 8}));
}
