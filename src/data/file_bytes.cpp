#include "file_bytes.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>

#include "qforge/data/dataset.h"

namespace fs = std::filesystem;

namespace qforge::data {

std::string read_bytes(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) throw DataError(path + ": no such file");
  if (fs::is_directory(st)) throw DataError(path + ": is a directory, expected a file");
  gzFile f = gzopen(path.c_str(), "rb");  // reads plain files transparently
  if (!f) throw DataError(path + ": cannot open: " + std::strerror(errno));
  gzbuffer(f, 1 << 17);
  std::string out;
  // Reserve the on-disk size: exact for plain files, a lower bound for gzip.
  const auto disk = fs::file_size(path, ec);
  if (!ec) out.reserve(static_cast<size_t>(disk));
  const size_t chunk = 1 << 20;
  for (;;) {
    const size_t old = out.size();
    out.resize(old + chunk);
    const int n = gzread(f, &out[old], static_cast<unsigned>(chunk));
    if (n < 0) {
      int err = 0;
      const char* msg = gzerror(f, &err);
      const std::string what = msg ? msg : "unknown error";
      gzclose(f);
      throw DataError(path + ": read error (corrupt or truncated gzip?): " + what);
    }
    out.resize(old + static_cast<size_t>(n));
    if (static_cast<size_t>(n) < chunk) break;
  }
  int err = 0;
  const char* msg = gzerror(f, &err);
  const std::string what = msg ? msg : "";
  gzclose(f);
  // zlib reports a gzip stream cut short as Z_BUF_ERROR ("unexpected end of file") after the last read.
  if (err != Z_OK && err != Z_STREAM_END) throw DataError(path + ": read error (corrupt or truncated gzip?): " + what);
  return out;
}

std::string existing_variant(const std::string& path) {
  if (fs::exists(path)) return path;
  if (fs::exists(path + ".gz")) return path + ".gz";
  throw DataError(path + ": no such file (nor " + path + ".gz)");
}

int64_t checked_mul(int64_t a, int64_t b, const std::string& path, const char* what) {
  if (a < 0 || b < 0 || (a != 0 && b > std::numeric_limits<int64_t>::max() / a))
    throw DataError(path + ": " + what + " overflows (" + std::to_string(a) + " x " + std::to_string(b) + ")");
  return a * b;
}

}  // namespace qforge::data
