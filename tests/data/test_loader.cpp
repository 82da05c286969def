#include <ATen/ATen.h>

#include <atomic>
#include <chrono>

#include "data_test_util.h"
#include "qforge/data/dataset.h"
#include "qforge/data/loader.h"

using namespace qforge::data;
using namespace qforge::data::testing;

namespace {
// n examples of 1x4x4 whose pixels encode the index (low byte in row 0, high byte in row 1), label = index.
Dataset indexed(int n, int64_t channels = 1) {
  at::Tensor idx = at::arange(n, at::kLong);
  at::Tensor img = at::zeros({n, channels, 4, 4}, at::kLong);
  img.select(2, 0).copy_((idx % 256).view({n, 1, 1}).expand({n, channels, 4}));
  img.select(2, 1).copy_((idx / 256).view({n, 1, 1}).expand({n, channels, 4}));
  Dataset d;
  d.images = img.to(at::kByte);
  d.labels = idx;
  d.num_classes = n;
  d.name = "indexed";
  return d;
}

LoaderOptions options(int workers, bool shuffle = true) {
  LoaderOptions o;
  o.batch_size = 10;
  o.shuffle = shuffle;
  o.seed = 5;
  o.workers = workers;
  o.transforms.mean = {0.0};
  o.transforms.std = {1.0 / 255.0};  // normalized value = pixel value
  return o;
}

std::vector<Batch> epoch(DataLoader& l, int64_t e) {
  std::vector<Batch> out;
  l.start_epoch(e);
  Batch b;
  while (l.next(b)) out.push_back(b);
  return out;
}

std::vector<int64_t> ids(const std::vector<Batch>& batches) {
  std::vector<int64_t> out;
  for (const Batch& b : batches) {
    const at::Tensor px = b.images.select(1, 0);  // [B, 4, 4]
    for (int64_t i = 0; i < b.labels.size(0); ++i) {
      const int64_t id = std::lround(px[i][0][0].item<float>()) + 256 * std::lround(px[i][1][0].item<float>());
      EXPECT_EQ(id, b.labels[i].item<int64_t>());  // image and label stay together
      out.push_back(id);
    }
  }
  return out;
}

void expect_same(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(at::equal(a[i].images, b[i].images)) << "batch " << i;
    EXPECT_TRUE(at::equal(a[i].labels, b[i].labels)) << "batch " << i;
  }
}
}  // namespace

TEST(DataLoader, SameSeedSameBatchesForAnyWorkerCount) {
  const Dataset d = indexed(603);
  std::vector<std::vector<Batch>> runs;
  for (int workers : {0, 1, 3}) {
    LoaderOptions o = options(workers);
    o.augment = true;
    o.transforms.crop_padding = 1;
    o.transforms.hflip = true;
    o.prefetch = 2;
    DataLoader l(d, o);
    runs.push_back(epoch(l, 4));
  }
  expect_same(runs[0], runs[1]);
  expect_same(runs[0], runs[2]);
  for (const Batch& b : runs[0]) {
    EXPECT_EQ(b.images.scalar_type(), at::kFloat);
    EXPECT_TRUE(b.images.is_contiguous());
    EXPECT_EQ(b.labels.scalar_type(), at::kLong);
  }
}

TEST(DataLoader, ShuffleIsPerEpochAndCoversEveryExampleOnce) {
  const Dataset d = indexed(603);
  DataLoader a(d, options(2)), b(d, options(3));
  EXPECT_EQ(a.num_batches(), 61);
  const std::vector<int64_t> e0 = ids(epoch(a, 0)), e1 = ids(epoch(a, 1));
  EXPECT_EQ(e0, ids(epoch(b, 0)));
  EXPECT_EQ(e0, ids(epoch(a, 0)));  // a function of (seed, epoch) only
  EXPECT_NE(e0, e1);
  for (const auto& e : {e0, e1}) {
    std::vector<int64_t> sorted = e;
    std::sort(sorted.begin(), sorted.end());
    ASSERT_EQ(sorted.size(), 603u);
    for (int64_t i = 0; i < 603; ++i) ASSERT_EQ(sorted[static_cast<size_t>(i)], i);
  }
  LoaderOptions other = options(2);
  other.seed = 6;
  DataLoader c(d, other);
  EXPECT_NE(e0, ids(epoch(c, 0)));
  DataLoader plain(d, options(2, false));
  const std::vector<int64_t> in_order = ids(epoch(plain, 3));
  for (int64_t i = 0; i < 603; ++i) ASSERT_EQ(in_order[static_cast<size_t>(i)], i);
}

TEST(DataLoader, DropLastAndSmallDatasets) {
  const Dataset d = indexed(103);
  LoaderOptions o = options(2);
  o.drop_last = true;
  DataLoader l(d, o);
  EXPECT_EQ(l.num_batches(), 10);
  const std::vector<Batch> bs = epoch(l, 0);
  EXPECT_EQ(bs.size(), 10u);
  EXPECT_EQ(ids(bs).size(), 100u);
  DataLoader keep(d, options(2));
  const std::vector<Batch> all = epoch(keep, 0);
  ASSERT_EQ(all.size(), 11u);
  EXPECT_EQ(all.back().labels.size(0), 3);
  o.batch_size = 200;
  DataLoader none(d, o);
  EXPECT_EQ(none.num_batches(), 0);
  EXPECT_TRUE(epoch(none, 0).empty());
  DataLoader empty(subset(d, 0), options(3));
  EXPECT_TRUE(epoch(empty, 0).empty());
}

TEST(DataLoader, StopsEarlyWithoutHanging) {
  const Dataset d = indexed(1000);
  for (int workers : {1, 3}) {
    LoaderOptions o = options(workers);
    o.batch_size = 4;
    o.prefetch = 2;
    DataLoader l(d, o);
    Batch b;
    ASSERT_TRUE(l.next(b));
    l.start_epoch(1);  // mid-epoch restart
    ASSERT_TRUE(l.next(b));
    ASSERT_TRUE(l.next(b));
  }  // destroyed mid-epoch with a full prefetch queue
  {
    DataLoader never_used(d, options(3));
  }
  LoaderOptions z = options(2);
  z.prefetch = 0;  // treated as 1
  DataLoader l(d, z);
  EXPECT_EQ(ids(epoch(l, 0)).size(), 1000u);
}

TEST(DataLoader, WorkerErrorsReachNextInOrder) {
  const Dataset d = indexed(100);
  for (int workers : {0, 1, 3}) {
    LoaderOptions o = options(workers);
    o.batch_transform = [](Batch& b, std::mt19937_64&) {
      if (b.labels[0].item<int64_t>() == 30) throw DataError("boom at 30");
    };
    o.shuffle = false;
    DataLoader l(d, o);
    Batch b;
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(l.next(b)) << workers;  // batches 0..2 are fine
    expect_data_error([&] { l.next(b); }, {"boom at 30"});
    expect_data_error([&] { l.next(b); }, {"boom at 30"});  // and stays failed
    l.start_epoch(1);
    ASSERT_TRUE(l.next(b));  // a new epoch starts afresh
    EXPECT_EQ(b.labels[0].item<int64_t>(), 0);
  }
}

TEST(DataLoader, AppliesTransformsAndChecksOptions) {
  Dataset d = indexed(20, 3);
  d.name = "cifar10";
  LoaderOptions o = options(1, false);
  o.transforms.mean.clear();
  o.transforms.std.clear();  // cifar10 defaults
  o.transforms.resize = 8;
  o.transforms.center_crop = 6;
  DataLoader l(d, o);
  Batch b;
  ASSERT_TRUE(l.next(b));
  EXPECT_EQ(b.images.sizes(), (std::vector<int64_t>{10, 3, 6, 6}));
  // Example 0 is all zeros: every value is -mean / std of its channel.
  EXPECT_NEAR(b.images[0][2][3][3].item<float>(), -0.4465 / 0.2616, 1e-5);

  const std::string who = "data loader (indexed)";
  const Dataset g = indexed(20);
  LoaderOptions bad = options(1);
  bad.transforms.mean = {0.1, 0.2};
  expect_data_error([&] { DataLoader x(g, bad); }, {who, "2 mean / 1 std values for 1 channels"});
  bad = options(1);
  bad.transforms.center_crop = 5;
  expect_data_error([&] { DataLoader x(g, bad); }, {who, "center crop 5", "4x4"});
  bad = options(1);
  bad.batch_size = 0;
  expect_data_error([&] { DataLoader x(g, bad); }, {who, "batch size"});
  Dataset f = g;
  f.images = f.images.to(at::kFloat);
  expect_data_error([&] { DataLoader x(f, options(1)); }, {who, "uint8"});
  f = g;
  f.labels = f.labels.narrow(0, 0, 3);
  expect_data_error([&] { DataLoader x(f, options(1)); }, {who, "labels"});
}
