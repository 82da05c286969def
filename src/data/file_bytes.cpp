#include "file_bytes.h"

#include <zlib.h>

#include <filesystem>

#include "qforge/data/dataset.h"

namespace qforge::data {

std::string read_bytes(const std::string& path) {
  if (!std::filesystem::exists(path)) throw DataError(path + ": no such file");
  gzFile f = gzopen(path.c_str(), "rb");  // reads plain files transparently
  if (!f) throw DataError(path + ": cannot open");
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  int err = 0;
  const char* msg = gzerror(f, &err);
  std::string what = msg ? msg : "";
  gzclose(f);
  if (n < 0 || (err != Z_OK && err != Z_STREAM_END)) throw DataError(path + ": read error (corrupt or truncated gzip): " + what);
  return out;
}

std::string existing_variant(const std::string& path) {
  if (std::filesystem::exists(path)) return path;
  if (std::filesystem::exists(path + ".gz")) return path + ".gz";
  throw DataError(path + ": no such file (nor " + path + ".gz)");
}

}  // namespace qforge::data
