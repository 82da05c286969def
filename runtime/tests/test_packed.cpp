// The packed model file: codes round-trip, widths come from the values, a .qfp runs bit for bit like
// its source .onnx, and truncated / corrupt / version-mismatched files fail with a clear message.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <sys/wait.h>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.h"
#include "core/npy.h"
#include "graph/model.h"
#include "lowbit_models.h"
#include "pack/inspect.h"
#include "pack/qfp.h"
#include "pack/widths.h"
#include "qforge_rt/qforge_rt.hpp"
#include "test_util.h"

using namespace qfrt;
namespace fs = std::filesystem;
using qfrt_test::OnnxBuilder;
using qfrt_test::load_error;
using qfrt_test::read_file;
using qfrt_test::write_file;

namespace {
std::string tmp(const std::string& name) { return (fs::temp_directory_path() / ("qforge_rt_packed_" + name)).string(); }
std::string fixture(const std::string& name) { return std::string(QF_RT_FIXTURES) + "/" + name; }

Tensor random_input(const Shape& s, unsigned seed) {
  Tensor x(DType::F32, s);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-0.2f, 1.2f);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = d(rng);
  return x;
}
// Runs both files on x; the outputs must be the same bytes.
void expect_same_outputs(const std::string& onnx, const std::string& qfp, const Tensor& x) {
  Model a(onnx), b(qfp);
  const Tensor ya = a.run({x})[0], yb = b.run({x})[0];
  ASSERT_EQ(ya.shape, yb.shape);
  EXPECT_EQ(0, std::memcmp(ya.bytes.data(), yb.bytes.data(), ya.bytes.size())) << qfp;
}
}  // namespace

TEST(Packed, CodesRoundTripEveryKind) {
  std::mt19937 rng(1);
  const std::pair<WKind, std::pair<int, int>> kinds[] = {
      {WKind::Int4, {-8, 7}}, {WKind::Int2, {-2, 1}}, {WKind::Ternary, {-1, 1}}, {WKind::Binary, {-1, 1}}, {WKind::Int8, {-128, 127}},
      {WKind::Pow2, {-20, 20}}};
  for (const auto& kr : kinds)
    for (int64_t K : {1, 3, 7, 8, 9, 63, 65}) {
      const int64_t M = 5;
      std::vector<int8_t> w = qfrt_test::random_ints<int8_t>(static_cast<size_t>(M * K), kr.second.first, kr.second.second, rng);
      if (kr.first == WKind::Binary)
        for (auto& v : w) v = v >= 0 ? 1 : -1;
      if (kr.first == WKind::Pow2)  // 0 or +-2^e, e in 0..6
        for (auto& v : w) v = static_cast<int8_t>(v == 0 ? 0 : (v < 0 ? -1 : 1) * (1 << ((v < 0 ? -v : v) % 7)));
      const std::vector<uint8_t> p = pack_codes(w.data(), M, K, kr.first);
      ASSERT_EQ(static_cast<int64_t>(p.size()), M * ((K * wkind_bits(kr.first) + 7) / 8));
      std::vector<int8_t> back(w.size());
      unpack_codes(p.data(), M, K, kr.first, back.data());
      EXPECT_EQ(w, back) << wkind_name(kr.first) << " K=" << K;
    }
}

TEST(Packed, WeightKindIsTheNarrowestThatHoldsTheValues) {
  auto kind = [](std::vector<int> v, int zp) {
    Tensor w(DType::S8, {static_cast<int64_t>(v.size())});
    for (size_t i = 0; i < v.size(); ++i) w.data<int8_t>()[i] = static_cast<int8_t>(v[i]);
    Tensor z(DType::S8, {1});
    z.data<int8_t>()[0] = static_cast<int8_t>(zp);
    return weight_kind(w, &z);
  };
  EXPECT_EQ(kind({-1, 1, 1, -1}, 0), WKind::Binary);
  EXPECT_EQ(kind({-1, 0, 1}, 0), WKind::Ternary);
  EXPECT_EQ(kind({-1, 0, 1}, 1), WKind::Int2);  // not a symmetric grid
  EXPECT_EQ(kind({-2, 1, 0}, 0), WKind::Int2);
  EXPECT_EQ(kind({-8, 7}, 0), WKind::Int4);
  EXPECT_EQ(kind({-2, 2}, 0), WKind::Int4);
  EXPECT_EQ(kind({-9, 0}, 0), WKind::Int8);
  EXPECT_EQ(kind({8}, 0), WKind::Pow2);  // above int4, and a power of two
  EXPECT_EQ(kind({-64, 0, 16, 1, -2}, 3), WKind::Pow2);  // stored integers: the zero point does not matter
  EXPECT_EQ(kind({8, 3}, 0), WKind::Int8);
  EXPECT_EQ(kind({-128, 0}, 0), WKind::Int8);  // 2^7 has no pow2 code
}

TEST(Packed, FixturesRunBitExactFromTheQfp) {
  const Tensor x = read_npy_f32(fixture("fmnist8.npy"));
  for (const char* name : {"lenet5_w8a8", "lenet5_lsq_w4a4", "resnet20_w025_w8a8", "mobilenet_v2_w025_w8a8"}) {
    const std::string onnx = fixture(std::string(name) + ".onnx"), qfp = tmp(std::string(name) + ".qfp");
    // MobileNetV2 is too large to commit: make_fixtures.sh writes it, and it is checked when present.
    if (std::string(name) == "mobilenet_v2_w025_w8a8" && !std::filesystem::exists(onnx)) continue;
    pack_onnx(onnx, qfp);
    ASSERT_TRUE(is_qfp_file(qfp));
    EXPECT_FALSE(is_qfp_file(onnx));
    expect_same_outputs(onnx, qfp, x);
  }
  // The LSQ W4A4 LeNet's integer layers are stored at 4 bits: half the bytes of their weights.
  QfpInfo info;
  read_qfp(tmp("lenet5_lsq_w4a4.qfp"), &info);
  int int4 = 0;
  for (const auto& t : info.tensors)
    if (t.kind == "int4") {
      ++int4;
      EXPECT_EQ(t.bytes, t.shape[0] * ((numel_of(t.shape) / t.shape[0] + 1) / 2)) << t.name;
    }
  EXPECT_EQ(int4, 3);  // conv2, fc1, fc2 (conv1 and fc3 are kept float)
}

TEST(Packed, SyntheticWidthsArePackedAndRunBitExact) {
  struct Case {
    qfrt_test::LowbitSpec s;
    const char* kind;
    int x_bits;
  };
  std::vector<Case> cases;
  auto add = [&](int lo, int hi, bool no_zero, int a_bits, const char* kind) {
    qfrt_test::LowbitSpec s;
    s.w_lo = lo, s.w_hi = hi, s.no_zero = no_zero, s.a_bits = a_bits;
    cases.push_back({s, kind, a_bits});
  };
  add(-8, 7, false, 4, "int4");
  add(-2, 1, false, 2, "int2");
  add(-1, 1, false, 2, "ternary");
  add(-1, 1, true, 1, "binary");
  add(-1, 1, true, 4, "binary");
  add(-100, 100, false, 8, "I8");
  add(-64, 64, false, 8, "pow2");
  cases.back().s.pow2 = true;
  for (const Case& c : cases) {
    const std::string onnx = tmp(std::string("syn_") + c.kind + ".onnx"), qfp = tmp(std::string("syn_") + c.kind + ".qfp");
    qfrt_test::lowbit_model(c.s, onnx);
    pack_onnx(onnx, qfp);
    QfpInfo info;
    const Graph g = read_qfp(qfp, &info);
    int weights = 0;
    for (const auto& t : info.tensors)
      if (t.name == "conv1_wq" || t.name == "conv2_wq") {
        EXPECT_EQ(t.kind, c.kind) << t.name;
        ++weights;
      }
    EXPECT_EQ(weights, 2);
    Model m(qfp);
    for (const Node& n : m.graph().nodes)
      if (is_weight_layer(n)) EXPECT_EQ(n.i("qf_x_bits", -1), c.x_bits) << n.label();
    expect_same_outputs(onnx, qfp, random_input({c.s.batch, c.s.C, c.s.H, c.s.W}, 7));
  }
}

TEST(Packed, InspectShowsBitsBytesAndOverhead) {
  const std::string qfp = tmp("inspect_lsq.qfp");
  pack_onnx(fixture("lenet5_lsq_w4a4.onnx"), qfp);
  const std::string r = inspect_qfp(qfp);
  EXPECT_NE(r.find("fc1_qf_int                   qf.QGemm             4      48000      24000"), std::string::npos) << r;
  EXPECT_NE(r.find("overhead: "), std::string::npos) << r;
  EXPECT_NE(r.find("header "), std::string::npos) << r;
  EXPECT_NE(load_error(fixture("lenet5_lsq_w4a4.onnx")), "x");
  try {
    inspect_qfp(fixture("lenet5_lsq_w4a4.onnx"));
    ADD_FAILURE() << "inspect read an ONNX file as .qfp";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a .qfp"), std::string::npos) << e.what();
  }
}

TEST(Packed, TruncatedQfpFailsNamingTheFile) {
  const std::string good = tmp("trunc_src.qfp"), p = tmp("trunc.qfp");
  pack_onnx(fixture("lenet5_lsq_w4a4.onnx"), good);
  const std::string bytes = read_file(good);
  int cases = 0;
  for (size_t len = 0; len < bytes.size(); len += 97) {
    write_file(p, bytes.substr(0, len));
    const std::string e = load_error(p);
    ASSERT_FALSE(e.empty()) << "a .qfp truncated to " << len << " of " << bytes.size() << " bytes loaded";
    EXPECT_NE(e.find(p), std::string::npos) << e;
    ++cases;
  }
  EXPECT_GT(cases, 100);
  write_file(p, bytes.substr(0, bytes.size() - 1));
  EXPECT_NE(load_error(p).find("truncated"), std::string::npos) << load_error(p);
}

TEST(Packed, VersionMismatchAndForeignFilesFailClearly) {
  const std::string good = tmp("ver_src.qfp"), p = tmp("ver.qfp");
  pack_onnx(fixture("lenet5_w8a8.onnx"), good);
  std::string bytes = read_file(good);
  const size_t at = bytes.find("\"format_version\":\"1\"");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 18] = '7';
  write_file(p, bytes);
  std::string e = load_error(p);
  EXPECT_NE(e.find(p), std::string::npos) << e;
  EXPECT_NE(e.find("format version 7, this runtime reads version 1"), std::string::npos) << e;
  // A safetensors file that is not ours.
  const std::string h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
  std::string st(8, '\0');
  st[0] = static_cast<char>(h.size());
  write_file(p, st + h + std::string(4, '\0'));
  e = load_error(p);
  EXPECT_NE(e.find("not a qforge packed file"), std::string::npos) << e;
  // A flipped weight byte is caught by the checksum; a dtype edit by the tensor table.
  bytes = read_file(good);
  bytes[bytes.size() - 100] ^= 0x10;
  write_file(p, bytes);
  EXPECT_NE(load_error(p).find("checksum mismatch"), std::string::npos) << load_error(p);
  bytes = read_file(good);
  const size_t d = bytes.find("\"dtype\":\"F32\"");
  bytes.replace(d, 13, "\"dtype\":\"I64\"");  // 8 bytes an element: the offsets disagree
  write_file(p, bytes);
  e = load_error(p);
  EXPECT_NE(e.find("tensor '"), std::string::npos) << e;
}

TEST(Packed, CorruptQfpNeverCrashes) {
  const std::string good = tmp("fuzz_src.qfp"), p = tmp("fuzz.qfp");
  pack_onnx(fixture("lenet5_lsq_w4a4.onnx"), good);
  const std::string bytes = read_file(good);
  const Tensor x = read_npy_f32(fixture("fmnist8.npy"));
  std::mt19937 rng(17);
  int failed = 0, trials = 300;
  for (int t = 0; t < trials; ++t) {
    std::string b = bytes;
    const int flips = 1 + static_cast<int>(rng() % 8);
    // Half the trials hit the header (length, JSON), where the structure checks must catch it.
    const size_t span = t % 2 ? b.size() : std::min<size_t>(b.size(), 6000);
    for (int i = 0; i < flips; ++i) b[rng() % span] = static_cast<char>(rng());
    write_file(p, b);
    try {
      Model m(p);
      m.run({x});
    } catch (const Error& e) {
      ++failed;
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
    }
  }
  EXPECT_GT(failed, trials * 9 / 10);  // the rest changed bytes that do not matter (JSON spacing)
}

TEST(Packed, CApiPackIsAtomicAndReportsErrors) {
  const std::string out = tmp("capi.qfp");
  std::remove(out.c_str());
  ASSERT_EQ(qf_pack(fixture("lenet5_lsq_w4a4.onnx").c_str(), out.c_str()), 0) << qf_last_error();
  qf_model* m = qf_load(out.c_str());
  ASSERT_NE(m, nullptr) << qf_last_error();
  qf_free(m);
  const std::string before = read_file(out);
  const std::string bad = tmp("capi_bad.onnx");
  write_file(bad, "not an onnx file");
  EXPECT_EQ(qf_pack(bad.c_str(), out.c_str()), -1);
  EXPECT_NE(std::string(qf_last_error()).find(bad), std::string::npos) << qf_last_error();
  EXPECT_EQ(read_file(out), before);  // a failed pack leaves the old file alone
  EXPECT_EQ(qf_pack(nullptr, out.c_str()), -1);
  EXPECT_EQ(qf_pack(fixture("lenet5_w8a8.onnx").c_str(), "/nonexistent_dir/x.qfp"), -1);
  EXPECT_NE(std::string(qf_last_error()).find("/nonexistent_dir/x.qfp"), std::string::npos) << qf_last_error();
  // The C++ wrapper: pack, then load and run the .qfp like the .onnx.
  EXPECT_THROW(qforge_rt::pack(bad, out), qforge_rt::Error);
  qforge_rt::pack(fixture("lenet5_w8a8.onnx"), out);
  const Tensor x = read_npy_f32(fixture("fmnist8.npy"));
  std::vector<int64_t> ys;
  const std::vector<float> xv(x.data<float>(), x.data<float>() + x.numel());
  const std::vector<float> ya = qforge_rt::Model(out).run(xv, x.shape, ys), yb = qforge_rt::Model(fixture("lenet5_w8a8.onnx")).run(xv, x.shape, ys);
  EXPECT_EQ(ya, yb);
  for (const auto& e : fs::directory_iterator(fs::temp_directory_path()))
    EXPECT_EQ(e.path().string().find(out + ".tmp"), std::string::npos) << "left behind: " << e.path();
  // inspect through the C API (what `qforge inspect FILE.qfp` prints); an ONNX file is no .qfp.
  EXPECT_TRUE(qforge_rt::is_packed(out));
  EXPECT_FALSE(qforge_rt::is_packed(fixture("lenet5_w8a8.onnx")));
  EXPECT_NE(qforge_rt::inspect(out).find("bits/weight"), std::string::npos);
  EXPECT_EQ(qf_inspect(fixture("lenet5_w8a8.onnx").c_str()), nullptr);
  EXPECT_NE(std::string(qf_last_error()).find("not a .qfp"), std::string::npos) << qf_last_error();
  EXPECT_EQ(qf_inspect(nullptr), nullptr);
}

TEST(Packed, HeaderNumbersAreCheckedNotCast) {
  const std::string good = tmp("num_src.qfp"), p = tmp("num.qfp");
  pack_onnx(fixture("lenet5_w8a8.onnx"), good);
  const std::string bytes = read_file(good);
  uint64_t hn = 0;
  for (int i = 7; i >= 0; --i) hn = (hn << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
  // Edits of the JSON with the length prefix rewritten: a float shape, a huge one, a negative offset.
  for (const auto& edit : std::vector<std::pair<std::string, std::string>>{
           {"\"shape\":[6]", "\"shape\":[6.5]"}, {"\"shape\":[6]", "\"shape\":[1e30]"}, {"\"data_offsets\":[0,", "\"data_offsets\":[-1,"}}) {
    std::string h = bytes.substr(8, static_cast<size_t>(hn));
    const size_t at = h.find(edit.first);
    ASSERT_NE(at, std::string::npos) << edit.first;
    h.replace(at, edit.first.size(), edit.second);
    std::string len(8, '\0');
    for (int i = 0; i < 8; ++i) len[static_cast<size_t>(i)] = static_cast<char>((h.size() >> (8 * i)) & 0xff);
    write_file(p, len + h + bytes.substr(8 + static_cast<size_t>(hn)));
    const std::string e = load_error(p);
    EXPECT_NE(e.find(p + ": tensor '"), std::string::npos) << e;
    EXPECT_TRUE(e.find("expected an integer") != std::string::npos || e.find("data_offsets must be") != std::string::npos) << e;
  }
}

TEST(Packed, CliPackInspectRun) {
  const std::string cli = QF_RT_CLI, onnx = fixture("lenet5_lsq_w4a4.onnx"), qfp = tmp("cli.qfp"), out = tmp("cli.txt");
  ASSERT_EQ(std::system((cli + " pack " + onnx + " -o " + qfp).c_str()), 0);
  ASSERT_EQ(std::system((cli + " inspect " + qfp + " > " + out).c_str()), 0);
  EXPECT_NE(read_file(out).find("qf.QGemm             4"), std::string::npos) << read_file(out);
  const std::string y1 = tmp("cli_y1.npy"), y2 = tmp("cli_y2.npy"), x = fixture("fmnist8.npy");
  ASSERT_EQ(std::system((cli + " run " + onnx + " --input " + x + " --output " + y1).c_str()), 0);
  ASSERT_EQ(std::system((cli + " run " + qfp + " --input " + x + " --output " + y2).c_str()), 0);
  EXPECT_EQ(read_file(y1), read_file(y2));
  EXPECT_EQ(WEXITSTATUS(std::system((cli + " pack " + onnx + " 2> " + out).c_str())), 2);  // usage
  EXPECT_EQ(WEXITSTATUS(std::system((cli + " pack " + tmp("missing.onnx") + " -o " + qfp + " 2> " + out).c_str())), 1);
  EXPECT_NE(read_file(out).find("missing.onnx"), std::string::npos) << read_file(out);
  EXPECT_EQ(WEXITSTATUS(std::system((cli + " inspect " + onnx + " 2> " + out).c_str())), 1);
  EXPECT_NE(read_file(out).find("not a .qfp"), std::string::npos) << read_file(out);
}

// Weight-only quantized layers (qforge's BWN / TWN exports: DQ(int8 weights) -> float Conv) keep their
// weights packed in the file and are dequantized at load, so the outputs stay those of the .onnx.
TEST(Packed, WeightOnlyLayersStayPackedAndRunBitExact) {
  for (bool binary : {true, false}) {
    OnnxBuilder b;
    b.input("x", {2, 4, 7, 7});
    std::mt19937 rng(binary ? 3 : 4);
    std::vector<int> w(static_cast<size_t>(6 * 4 * 9));
    for (auto& v : w) v = binary ? (rng() % 2 ? 1 : -1) : static_cast<int>(rng() % 3) - 1;
    b.int8s("w", {6, 4, 3, 3}, w);
    b.floats("ws", {6}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f});
    b.int8s("wz", {6}, std::vector<int>(6, 0));
    auto* d = b.node("DequantizeLinear", {"w", "ws", "wz"}, {"wf"}, "wdq");
    OnnxBuilder::attr(d, "axis", int64_t{0});
    auto* c = b.node("Conv", {"x", "wf"}, {"y"}, "conv");
    OnnxBuilder::attr(c, "pads", std::vector<int64_t>{1, 1, 1, 1});
    b.output("y");
    const std::string onnx = tmp("wonly.onnx"), qfp = tmp("wonly.qfp");
    b.save(onnx);
    pack_onnx(onnx, qfp);
    QfpInfo info;
    read_qfp(qfp, &info);
    bool found = false;
    for (const auto& t : info.tensors)
      if (t.name == "w") {
        found = true;
        EXPECT_EQ(t.kind, binary ? "binary" : "ternary");
        EXPECT_EQ(t.bytes, 6 * ((36 * (binary ? 1 : 2) + 7) / 8));
      }
    EXPECT_TRUE(found);
    EXPECT_NE(inspect_qfp(qfp).find(binary ? "bin1" : "ter2"), std::string::npos) << inspect_qfp(qfp);
    expect_same_outputs(onnx, qfp, random_input({2, 4, 7, 7}, 5));
  }
}
