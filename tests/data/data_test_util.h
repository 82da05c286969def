// Helpers shared by the data-layer tests: a per-process temp dir, file writers, error matchers.
#pragma once
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "qforge/data/dataset.h"

namespace qforge::data::testing {

namespace fs = std::filesystem;

inline fs::path temp_root() { return fs::temp_directory_path() / ("qf_data_" + std::to_string(::getpid())); }

// Removes temp_root() when the test program ends.
struct TempRootCleanup : ::testing::Environment {
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(temp_root(), ec);
  }
};
inline ::testing::Environment* const temp_root_cleanup = ::testing::AddGlobalTestEnvironment(new TempRootCleanup);

// A fresh directory per test: <tmp>/qf_data_<pid>/<suite>.<test>.
inline std::string temp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  fs::path p = temp_root() / (std::string(info->test_suite_name()) + "." + info->name());
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(f.good()) << path;
}

inline void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// f() must throw DataError whose message contains every one of `parts` (a file name, the problem).
inline void expect_data_error(const std::function<void()>& f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no DataError; expected one mentioning " << *parts.begin();
  } catch (const DataError& e) {
    for (const std::string& p : parts) EXPECT_THAT(e.what(), ::testing::HasSubstr(p));
  }
}

}  // namespace qforge::data::testing
