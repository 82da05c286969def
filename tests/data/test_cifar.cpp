#include <ATen/ATen.h>

#include "data_test_util.h"
#include "qforge/data/dataset.h"

using namespace qforge::data;
using namespace qforge::data::testing;

namespace {
// A CIFAR record: label byte(s), then 3x32x32 pixels; the first pixel of channel c is `first[c]`.
std::string record(std::initializer_list<int> labels, std::array<int, 3> first) {
  std::string r;
  for (int l : labels) r.push_back(static_cast<char>(l));
  std::string px(3072, '\0');
  for (int c = 0; c < 3; ++c) px[c * 1024] = static_cast<char>(first[c]);
  return r + px;
}
}  // namespace

TEST(DataCifar, Cifar10TrainAndTest) {
  const std::string root = temp_dir();
  for (int b = 1; b <= 5; ++b) write_file(root + "/data_batch_" + std::to_string(b) + ".bin", record({b}, {b, 2 * b, 3 * b}) + record({9}, {0, 0, 0}));
  write_file(root + "/test_batch.bin", record({7}, {1, 99, 3}) + record({0}, {4, 5, 6}));
  const Dataset te = read_cifar(root, false, false);
  EXPECT_EQ(te.size(), 2);
  EXPECT_EQ(te.num_classes, 10);
  EXPECT_EQ(te.images.sizes(), (std::vector<int64_t>{2, 3, 32, 32}));
  EXPECT_EQ(te.labels[0].item<int64_t>(), 7);
  EXPECT_EQ(te.images[0][1][0][0].item<int>(), 99);  // channel-major layout
  EXPECT_EQ(te.images[1][2][0][0].item<int>(), 6);
  const Dataset tr = load_dataset("cifar10", root, true);
  EXPECT_EQ(tr.name, "cifar10");
  EXPECT_EQ(tr.size(), 10);
  EXPECT_EQ(tr.labels[4].item<int64_t>(), 3);  // batch 3, first record
  EXPECT_EQ(tr.images[4][2][0][0].item<int>(), 9);
}

TEST(DataCifar, Cifar100UsesFineLabels) {
  const std::string root = temp_dir();
  write_file(root + "/train.bin", record({3, 77}, {1, 2, 3}) + record({19, 99}, {4, 5, 6}));
  write_file(root + "/test.bin", record({0, 5}, {0, 0, 0}));
  const Dataset tr = load_dataset("cifar100", root, true);
  EXPECT_EQ(tr.num_classes, 100);
  EXPECT_EQ(tr.labels[0].item<int64_t>(), 77);
  EXPECT_EQ(tr.labels[1].item<int64_t>(), 99);
  EXPECT_EQ(tr.images[1][0][0][0].item<int>(), 4);
  EXPECT_EQ(read_cifar(root, true, false).size(), 1);
}

TEST(DataCifar, BadFilesNameTheFile) {
  const std::string root = temp_dir();
  const std::string rec = record({1}, {0, 0, 0});
  write_file(root + "/test_batch.bin", rec + rec.substr(0, 100));
  expect_data_error([&] { read_cifar(root, false, false); }, {"test_batch.bin", "truncated", "3173 bytes", "3073-byte records"});
  write_file(root + "/test_batch.bin", "");
  expect_data_error([&] { read_cifar(root, false, false); }, {"test_batch.bin", "empty"});
  write_file(root + "/test_batch.bin", record({10}, {0, 0, 0}));
  expect_data_error([&] { read_cifar(root, false, false); }, {"test_batch.bin", "label 10 of record 0", "out of range"});
  for (int b = 1; b <= 4; ++b) write_file(root + "/data_batch_" + std::to_string(b) + ".bin", rec);
  expect_data_error([&] { read_cifar(root, false, true); }, {"data_batch_5.bin", "no such file"});
  write_file(root + "/train.bin", record({1, 2}, {0, 0, 0}) + rec);  // a CIFAR-10 record in a CIFAR-100 file
  expect_data_error([&] { read_cifar(root, true, true); }, {"train.bin", "3074-byte records"});
  write_file(root + "/train.bin", record({25, 2}, {0, 0, 0}));
  expect_data_error([&] { read_cifar(root, true, true); }, {"train.bin", "coarse label 25"});
  expect_data_error([&] { load_dataset("cifar10", "", true); }, {"cifar10", "data.root"});
}
