#include "core/buffer.h"

#include <cstdlib>
#include <vector>

namespace qfrt {

namespace {
constexpr int kClasses = 40;            // blocks up to 2^39 bytes
constexpr size_t kMaxCachedPerClass = 8;
constexpr size_t kMaxCachedBlock = size_t{1} << 28;

int size_class(size_t bytes) {
  int c = 6;  // 64-byte minimum
  while ((size_t{1} << c) < bytes) ++c;
  return c;
}

struct Cache {
  std::vector<void*> free[kClasses];
  ~Cache() {
    for (auto& l : free)
      for (void* p : l) std::free(p);
  }
};
Cache& cache() {
  thread_local Cache c;
  return c;
}
}  // namespace

void* buffer_alloc(size_t bytes) {
  const int c = size_class(bytes == 0 ? 1 : bytes);
  if (c >= kClasses) throw std::bad_alloc();
  std::vector<void*>& l = cache().free[c];
  if (!l.empty()) {
    void* p = l.back();
    l.pop_back();
    return p;
  }
  void* p = std::aligned_alloc(64, size_t{1} << c);
  if (!p) throw std::bad_alloc();
  return p;
}

void buffer_free(void* p, size_t bytes) {
  if (!p) return;
  const int c = size_class(bytes == 0 ? 1 : bytes);
  std::vector<void*>& l = cache().free[c];
  if ((size_t{1} << c) <= kMaxCachedBlock && l.size() < kMaxCachedPerClass) {
    l.push_back(p);
    return;
  }
  std::free(p);
}

}  // namespace qfrt
