// Runs the built `qforge` binary and captures stdout, stderr and the exit code.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

struct CliResult {
  int code;
  std::string out, err;
  std::string last_line() const {
    std::string s = out;
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s.substr(s.find_last_of('\n') == std::string::npos ? 0 : s.find_last_of('\n') + 1);
  }
};

inline std::string read_all(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::string test_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("qforge_cli_" + std::to_string(::getpid())) / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

// `args` is appended to the binary path as given (shell syntax).
inline CliResult run_cli(const std::string& args) {
  std::string dir = test_dir("io");
  std::string cmd = std::string("cd ") + QFORGE_SOURCE_DIR + " && " + QFORGE_CLI + " " + args + " > " + dir + "/out 2> " +
                    dir + "/err";
  int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_all(dir + "/out"), read_all(dir + "/err")};
}

// ONNX Runtime (npm onnxruntime-node, installed into tools/ort by scripts/setup.sh) on a model and
// a float32 .npy batch: the independent check of QDQ exports.
inline std::string ort_dir() { return std::string(QFORGE_SOURCE_DIR) + "/tools/ort"; }
inline bool have_ort() { return std::filesystem::exists(ort_dir() + "/node_modules/onnxruntime-node/package.json"); }
inline CliResult run_ort(const std::string& model, const std::string& input, const std::string& output) {
  std::string dir = test_dir("ort_io");
  std::string cmd = "node " + ort_dir() + "/run_ort.js " + model + " " + input + " " + output + " --batch 256 > " + dir +
                    "/out 2> " + dir + "/err";
  int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_all(dir + "/out"), read_all(dir + "/err")};
}
