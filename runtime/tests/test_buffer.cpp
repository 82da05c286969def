// The recycling buffer cache at thread exit. Thread-local containers that use the recycling allocator
// (pack_panel.cpp's row scratch) can be destroyed after the thread's cache; their memory must then go
// back to the C heap, not into the destroyed cache (found as a double free at exit with 2 threads;
// the ASan build reports the old code as heap-use-after-free here).
#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "core/buffer.h"

namespace {
using Bytes = std::vector<uint8_t, qfrt::RecyclingAllocator<uint8_t>>;

void use_scratch_first() {
  thread_local Bytes scratch;  // constructed before this thread's cache, so destroyed after it
  scratch.resize(4096);        // the first allocation creates the cache
  Bytes other(1024);           // freed into the cache while it is alive
  scratch[0] = 1;
}
}  // namespace

TEST(Buffer, ThreadLocalContainersOutlivingTheCacheAreFreedSafely) {
  for (int i = 0; i < 64; ++i) {
    std::thread t(use_scratch_first);
    t.join();
  }
  void* p = qfrt::buffer_alloc(100);  // the main thread's cache still works
  qfrt::buffer_free(p, 100);
  SUCCEED();
}
