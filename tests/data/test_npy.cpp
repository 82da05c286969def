#include <ATen/ATen.h>

#include "data_test_util.h"
#include "qforge/data/dataset.h"
#include "qforge/data/npy.h"

using namespace qforge::data;
using namespace qforge::data::testing;

namespace {
// A hand-made .npy file: version `major`, the given header dict, `data` bytes.
std::string npy_bytes(int major, const std::string& dict, const std::string& data) {
  std::string h = dict + "\n";
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const size_t n = major == 1 ? 2 : 4;
  for (size_t i = 0; i < n; ++i) out += static_cast<char>((h.size() >> (8 * i)) & 0xff);
  return out + h + data;
}

std::string floats(std::initializer_list<float> v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(&s[0], v.begin(), s.size());
  return s;
}
}  // namespace

TEST(DataNpy, RoundTripEveryDtype) {
  const std::string d = temp_dir();
  for (auto t : {at::kFloat, at::kDouble, at::kHalf, at::kLong, at::kInt, at::kShort, at::kByte, at::kChar, at::kBool}) {
    at::Tensor x = (at::rand({2, 3, 5}) * 100 - (t == at::kByte || t == at::kBool ? 0 : 50)).to(t);
    const std::string p = d + "/x.npy";
    write_npy(p, x);
    const at::Tensor y = read_npy(p);
    EXPECT_EQ(y.scalar_type(), t) << c10::toString(t);
    EXPECT_TRUE(at::equal(y, x)) << c10::toString(t);
    const std::string bytes = read_file(p);
    const size_t header = 10 + (static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8));
    EXPECT_EQ(header % 64, 0u);  // data 64-byte aligned, as numpy writes it
    EXPECT_EQ(bytes[header - 1], '\n');
  }
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{}, {3}, {0, 4}, {1, 1, 1, 1, 2}}) {
    const at::Tensor x = at::arange(c10::multiply_integers(shape), at::kLong).view(shape);
    write_npy(d + "/s.npy", x);
    const at::Tensor y = read_npy(d + "/s.npy");
    EXPECT_EQ(y.sizes(), x.sizes());
    EXPECT_TRUE(at::equal(y, x));
  }
  write_npy(d + "/t.npy", at::arange(12, at::kFloat).view({3, 4}).t());  // non-contiguous input
  EXPECT_TRUE(at::equal(read_npy(d + "/t.npy"), at::arange(12, at::kFloat).view({3, 4}).t().contiguous()));
  EXPECT_FALSE(fs::exists(d + "/t.npy.tmp"));  // written as .tmp, then renamed
  expect_data_error([&] { write_npy(d + "/c.npy", at::ones({2}, at::kComplexFloat)); }, {"c.npy", "cannot write dtype"});
  expect_data_error([&] { write_npy(d + "/nodir/x.npy", at::ones({2})); }, {"nodir/x.npy.tmp", "cannot create"});
}

TEST(DataNpy, ReadsHandWrittenHeaders) {
  const std::string d = temp_dir();
  // Version 2.0 header, double-space formatting, shape with a Python-2 long suffix.
  write_file(d + "/v2.npy", npy_bytes(2, "{'descr':'<f4',  'fortran_order' : False, 'shape': (2L, 2), }", floats({1, 2, 3, 4})));
  const at::Tensor v2 = read_npy(d + "/v2.npy");
  EXPECT_EQ(v2.sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(v2[1][0].item<float>(), 3.f);
  // Key order differs from numpy's own.
  write_file(d + "/order.npy", npy_bytes(1, "{'shape': (4,), 'fortran_order': False, 'descr': '<f4'}", floats({1, 2, 3, 4})));
  EXPECT_EQ(read_npy(d + "/order.npy")[3].item<float>(), 4.f);
  // A gzip-compressed .npy reads too.
  write_gz(d + "/z.npy", npy_bytes(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", "abc"));
  EXPECT_EQ(read_npy(d + "/z.npy")[2].item<uint8_t>(), 'c');
}

TEST(DataNpy, BadFilesNameTheFile) {
  const std::string d = temp_dir();
  const std::string ok_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  expect_data_error([&] { read_npy(d + "/missing.npy"); }, {"missing.npy", "no such file"});
  write_file(d + "/bad.npy", "not numpy at all");
  expect_data_error([&] { read_npy(d + "/bad.npy"); }, {"bad.npy", "bad magic"});
  write_file(d + "/fortran.npy", npy_bytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", floats({1, 2, 3, 4})));
  expect_data_error([&] { read_npy(d + "/fortran.npy"); }, {"fortran.npy", "Fortran"});
  write_file(d + "/big.npy", npy_bytes(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", floats({1, 2, 3, 4})));
  expect_data_error([&] { read_npy(d + "/big.npy"); }, {"big.npy", "unsupported .npy dtype '>f4'", "big-endian"});
  write_file(d + "/obj.npy", npy_bytes(1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", ""));
  expect_data_error([&] { read_npy(d + "/obj.npy"); }, {"obj.npy", "unsupported .npy dtype '|O'"});
  write_file(d + "/short.npy", npy_bytes(1, ok_dict, floats({1, 2, 3})));
  expect_data_error([&] { read_npy(d + "/short.npy"); }, {"short.npy", "truncated", "needs 16 bytes", "holds 12"});
  write_file(d + "/long.npy", npy_bytes(1, ok_dict, floats({1, 2, 3, 4, 5})));
  expect_data_error([&] { read_npy(d + "/long.npy"); }, {"long.npy", "trailing data"});
  write_file(d + "/noshape.npy", npy_bytes(1, "{'descr': '<f4', 'fortran_order': False}", floats({1})));
  expect_data_error([&] { read_npy(d + "/noshape.npy"); }, {"noshape.npy", "no 'shape'"});
  write_file(d + "/badshape.npy", npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", floats({1})));
  expect_data_error([&] { read_npy(d + "/badshape.npy"); }, {"badshape.npy", "bad .npy shape"});
  write_file(d + "/huge.npy", npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", ""));
  expect_data_error([&] { read_npy(d + "/huge.npy"); }, {"huge.npy", "overflows"});
  std::string cut = npy_bytes(1, ok_dict, "");
  write_file(d + "/cuthdr.npy", cut.substr(0, 30));
  expect_data_error([&] { read_npy(d + "/cuthdr.npy"); }, {"cuthdr.npy", "truncated .npy header"});
  write_file(d + "/v9.npy", npy_bytes(9, ok_dict, floats({1, 2, 3, 4})));
  expect_data_error([&] { read_npy(d + "/v9.npy"); }, {"v9.npy", "version 9"});
  write_file(d + "/bool.npy", npy_bytes(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", std::string("\x01\x07", 2)));
  expect_data_error([&] { read_npy(d + "/bool.npy"); }, {"bool.npy", "bool"});
}

TEST(DataNpy, Dataset) {
  const std::string d = temp_dir();
  const at::Tensor img = at::randint(0, 256, {5, 3, 4, 4}).to(at::kByte);
  write_npy(d + "/train_images.npy", img);
  write_npy(d + "/train_labels.npy", at::tensor({0, 3, 1, 3, 2}, at::kInt));
  const Dataset ds = load_dataset("npy", d, true);
  EXPECT_EQ(ds.name, "npy");
  EXPECT_TRUE(at::equal(ds.images, img));
  EXPECT_EQ(ds.labels.scalar_type(), at::kLong);
  EXPECT_EQ(ds.labels[1].item<int64_t>(), 3);
  EXPECT_EQ(ds.num_classes, 4);
  // Float images in [0, 1] become 0..255; [N, H, W] means one channel.
  write_npy(d + "/test_images.npy", at::tensor({0.0f, 1.0f, 0.5f, 0.2f}).view({1, 2, 2}));
  write_npy(d + "/test_labels.npy", at::tensor({1}, at::kLong));
  const Dataset f = load_dataset("npy", d, false);
  EXPECT_EQ(f.images.sizes(), (std::vector<int64_t>{1, 1, 2, 2}));
  EXPECT_EQ(f.images.flatten()[1].item<int>(), 255);
  EXPECT_EQ(f.images.flatten()[2].item<int>(), 128);
  EXPECT_EQ(f.images.flatten()[3].item<int>(), 51);

  write_npy(d + "/l3.npy", at::tensor({0, 1, 2}, at::kLong));
  expect_data_error([&] { read_npy_dataset(d + "/train_images.npy", d + "/l3.npy"); }, {"train_images.npy", "l3.npy", "5 images", "3 labels"});
  write_npy(d + "/neg.npy", at::tensor({0, 1, -2, 0, 0}, at::kLong));
  expect_data_error([&] { read_npy_dataset(d + "/train_images.npy", d + "/neg.npy"); }, {"neg.npy", "negative"});
  write_npy(d + "/fl.npy", at::zeros({5}));
  expect_data_error([&] { read_npy_dataset(d + "/train_images.npy", d + "/fl.npy"); }, {"fl.npy", "integer labels"});
  write_npy(d + "/f255.npy", at::full({5, 1, 2, 2}, 3.0f));
  expect_data_error([&] { read_npy_dataset(d + "/f255.npy", d + "/train_labels.npy"); }, {"f255.npy", "[0, 1]"});
  write_npy(d + "/i64img.npy", at::zeros({5, 1, 2, 2}, at::kLong));
  expect_data_error([&] { read_npy_dataset(d + "/i64img.npy", d + "/train_labels.npy"); }, {"i64img.npy", "uint8 or float"});
  expect_data_error([&] { load_dataset("npy", d + "/empty", true); }, {"empty/train_images.npy", "no such file"});
}
