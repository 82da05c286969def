// The runtime's parallel_for: every item exactly once, exceptions reach the caller, nested and
// concurrent calls are safe.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/parallel.h"

using qfrt::parallel_for;

TEST(ParallelFor, EveryItemOnceOverManyCalls) {
  for (int64_t n : {0, 1, 2, 3, 17, 1000}) {
    for (int rep = 0; rep < 50; ++rep) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      parallel_for(n, [&](int64_t i) { hits[static_cast<size_t>(i)].fetch_add(1); });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << "n=" << n << " i=" << i;
    }
  }
}

TEST(ParallelFor, ExceptionReachesCallerAfterAllItems) {
  std::atomic<int> ran{0};
  EXPECT_THROW(parallel_for(100,
                            [&](int64_t i) {
                              ran.fetch_add(1);
                              if (i == 37) throw std::runtime_error("item 37");
                            }),
               std::runtime_error);
  EXPECT_EQ(ran.load(), 100);
}

TEST(ParallelFor, NestedAndConcurrentCalls) {
  std::atomic<int64_t> sum{0};
  auto work = [&] {
    parallel_for(20, [&](int64_t i) { parallel_for(10, [&](int64_t j) { sum.fetch_add(i * 10 + j); }); });
  };
  std::thread other(work);
  work();
  other.join();
  EXPECT_EQ(sum.load(), 2 * (199 * 200 / 2));
}
