#include <ATen/ATen.h>

#include "data_test_util.h"
#include "qforge/data/dataset.h"
#include "qforge/data/transforms.h"

using namespace qforge::data;
using namespace qforge::data::testing;

TEST(DataTransforms, FlipTwiceIsIdentityAndFlipsMirror) {
  const at::Tensor x = at::randint(0, 256, {64, 2, 5, 7}).to(at::kByte);
  std::mt19937_64 r1(3), r2(3);
  const at::Tensor f = random_hflip(x, r1);
  EXPECT_TRUE(at::equal(random_hflip(f, r2), x));  // same coins: each sample flipped twice or not at all
  int flipped = 0;
  for (int64_t b = 0; b < x.size(0); ++b) {
    if (at::equal(f[b], x[b])) continue;
    EXPECT_TRUE(at::equal(f[b], x[b].flip({2}))) << b;
    ++flipped;
  }
  EXPECT_GT(flipped, 16);  // p = 0.5 over 64 samples
  EXPECT_LT(flipped, 48);
}

TEST(DataTransforms, RandomCropShiftsWithZeroPadding) {
  const at::Tensor x = at::randint(1, 256, {32, 3, 6, 6}).to(at::kByte);  // no zeros of its own
  std::mt19937_64 rng(7);
  const at::Tensor c = random_crop(x, 2, rng);
  EXPECT_EQ(c.sizes(), x.sizes());
  std::set<std::pair<int, int>> offsets;
  for (int64_t b = 0; b < x.size(0); ++b) {
    // Find the shift (dy, dx) in [-2, 2]^2 that explains sample b: out(y, x) = in(y + dy, x + dx) or 0 outside.
    bool found = false;
    for (int dy = -2; dy <= 2 && !found; ++dy)
      for (int dx = -2; dx <= 2 && !found; ++dx) {
        at::Tensor padded = at::constant_pad_nd(x[b], {2, 2, 2, 2}, 0);
        if (at::equal(c[b], padded.narrow(1, 2 + dy, 6).narrow(2, 2 + dx, 6))) {
          found = true;
          offsets.insert({dy, dx});
        }
      }
    EXPECT_TRUE(found) << b;
  }
  EXPECT_GT(offsets.size(), 5u);  // offsets drawn per sample
  std::mt19937_64 r0(7);
  EXPECT_TRUE(at::equal(random_crop(x, 0, r0), x));
  std::mt19937_64 ra(11), rb(11);
  EXPECT_TRUE(at::equal(random_crop(x, 3, ra), random_crop(x, 3, rb)));  // reproducible
}

TEST(DataTransforms, NormalizeByHand) {
  // pixel 51 = 0.2: (0.2 - 0.5) / 0.25 = -1.2; pixel 255 on channel 1: (1 - 0.1) / 0.3 = 3.
  at::Tensor x = at::zeros({2, 2, 1, 2}, at::kByte);
  x[1][0][0][1] = 51;
  x[1][1][0][0] = 255;
  const at::Tensor n = normalize(x, {0.5, 0.1}, {0.25, 0.3});
  EXPECT_EQ(n.scalar_type(), at::kFloat);
  EXPECT_TRUE(n.is_contiguous());
  EXPECT_NEAR(n[1][0][0][1].item<float>(), -1.2f, 1e-6);
  EXPECT_NEAR(n[1][1][0][0].item<float>(), 3.0f, 1e-6);
  EXPECT_NEAR(n[0][0][0][0].item<float>(), -2.0f, 1e-6);
  EXPECT_NEAR(n[0][1][0][1].item<float>(), -1.0f / 3, 1e-6);
  expect_data_error([&] { normalize(x, {0.5}, {0.25}); }, {"normalize", "1 mean / 1 std values for 2 channels"});
  expect_data_error([&] { normalize(x, {0.5, 0.5}, {0.25, 0.0}); }, {"normalize", "std"});
  expect_data_error([&] { normalize(x.to(at::kFloat), {0.5, 0.5}, {1, 1}); }, {"normalize", "uint8"});
}

TEST(DataTransforms, ResizeMatchesTorchBilinearThenCenterCrops) {
  const at::Tensor x = at::randint(0, 256, {3, 2, 10, 14}).to(at::kByte);
  for (int64_t size : {4, 7, 10, 23}) {
    const at::Tensor r = resize_center_crop(x, size, 0);
    const int64_t rw = (size * 14 + 5) / 10;
    ASSERT_EQ(r.sizes(), (std::vector<int64_t>{3, 2, size, rw})) << size;
    const at::Tensor ref = at::upsample_bilinear2d(x.to(at::kFloat), {size, rw}, false).round().clamp(0, 255);
    EXPECT_LE((r.to(at::kFloat) - ref).abs().max().item<float>(), 1.0f) << size;
    // Center crop of the same resize = the middle of the full resize.
    const at::Tensor c = resize_center_crop(x, size, size);
    EXPECT_TRUE(at::equal(c, r.narrow(3, (rw - size) / 2, size))) << size;
  }
  const at::Tensor crop = resize_center_crop(x, 0, 6);
  EXPECT_TRUE(at::equal(crop, x.narrow(2, 2, 6).narrow(3, 4, 6)));
  EXPECT_TRUE(at::equal(resize_center_crop(x, 0, 0), x));
  expect_data_error([&] { resize_center_crop(x, 0, 11); }, {"center crop 11", "10x14"});
}

TEST(DataTransforms, DefaultNormalizationAndSubset) {
  NormalizeStats f = default_normalization("fashion-mnist", 1);
  EXPECT_EQ(f.mean, std::vector<double>{0.2860});
  EXPECT_EQ(f.std, std::vector<double>{0.3530});
  EXPECT_EQ(default_normalization("mnist", 1).mean, std::vector<double>{0.1307});
  EXPECT_EQ(default_normalization("cifar10", 3).std, (std::vector<double>{0.2470, 0.2435, 0.2616}));
  EXPECT_EQ(default_normalization("cifar100", 3).mean, (std::vector<double>{0.5071, 0.4865, 0.4409}));
  EXPECT_EQ(default_normalization("imagefolder", 3).mean, (std::vector<double>{0.485, 0.456, 0.406}));
  const NormalizeStats g = default_normalization("cifar10", 1);  // grayscale: channel average
  ASSERT_EQ(g.mean.size(), 1u);
  EXPECT_NEAR(g.mean[0], (0.4914 + 0.4822 + 0.4465) / 3, 1e-12);

  Dataset d;
  d.images = at::arange(10, at::kByte).view({10, 1, 1, 1});
  d.labels = at::arange(10, at::kLong);
  d.num_classes = 10;
  d.name = "toy";
  const Dataset s = subset(d, 4);
  EXPECT_EQ(s.size(), 4);
  EXPECT_EQ(s.images.size(0), 4);
  EXPECT_EQ(s.labels[3].item<int64_t>(), 3);
  EXPECT_EQ(s.num_classes, 10);
  EXPECT_EQ(subset(d, 0).size(), 0);
  EXPECT_EQ(subset_fraction(d, 0.25).size(), 3);  // round(2.5) = 3
  EXPECT_EQ(subset_fraction(d, 0.01).size(), 1);  // at least one
  EXPECT_EQ(subset_fraction(d, 1.0).size(), 10);
  expect_data_error([&] { subset(d, 11); }, {"toy", "11"});
  expect_data_error([&] { subset_fraction(d, 0.0); }, {"toy", "fraction"});
}
