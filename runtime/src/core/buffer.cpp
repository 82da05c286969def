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

// Other thread_local containers using the recycling allocator (pack_panel.cpp's row scratch) may be destroyed
// after this cache at thread exit: from then on blocks go straight to / come straight from the C heap.
thread_local bool cache_gone = false;

struct Cache {
  std::vector<void*> free[kClasses];
  ~Cache() {
    for (auto& l : free)
      for (void* p : l) std::free(p);
    cache_gone = true;
  }
};
Cache* cache() {
  if (cache_gone) return nullptr;
  thread_local Cache c;
  return &c;
}
}  // namespace

void* buffer_alloc(size_t bytes) {
  const int c = size_class(bytes == 0 ? 1 : bytes);
  if (c >= kClasses) throw std::bad_alloc();
  if (Cache* k = cache(); k && !k->free[c].empty()) {
    void* p = k->free[c].back();
    k->free[c].pop_back();
    return p;
  }
  void* p = std::aligned_alloc(64, size_t{1} << c);
  if (!p) throw std::bad_alloc();
  return p;
}

void buffer_free(void* p, size_t bytes) {
  if (!p) return;
  const int c = size_class(bytes == 0 ? 1 : bytes);
  Cache* k = cache();
  if (k && (size_t{1} << c) <= kMaxCachedBlock && k->free[c].size() < kMaxCachedPerClass) {
    k->free[c].push_back(p);
    return;
  }
  std::free(p);
}

}  // namespace qfrt
