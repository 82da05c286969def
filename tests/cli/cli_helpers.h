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
