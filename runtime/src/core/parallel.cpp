#include "core/parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace qfrt {

namespace {
struct Job {
  const std::function<void(int64_t)>* fn;
  int64_t n;
  std::atomic<int64_t> next{0}, done{0};
  std::mutex error_mutex;
  std::exception_ptr error;

  int64_t grain = 1;

  // Items are taken `grain` at a time: each take and each completion is an atomic on a cache line
  // both cores write, and a layer of 960 tiny depthwise planes paid more for that than for the work.
  void drain() {
    for (int64_t i; (i = next.fetch_add(grain)) < n;) {
      const int64_t end = std::min(n, i + grain);
      for (int64_t k = i; k < end; ++k) {
        try {
          (*fn)(k);
        } catch (...) {
          std::lock_guard<std::mutex> l(error_mutex);
          if (!error) error = std::current_exception();
        }
      }
      done.fetch_add(end - i);
    }
  }
};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

thread_local bool t_inside = false;  // this thread is running items of a job

class Pool {
 public:
  Pool() {
    int n = static_cast<int>(std::thread::hardware_concurrency());
    if (const char* e = std::getenv("QFORGE_RT_THREADS"); e && *e) n = std::atoi(e);
    if (n < 1) n = 1;
    threads_ = n;
    for (int i = 1; i < n; ++i) workers_.emplace_back([this] { work(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> l(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }

  void run(int64_t n, const std::function<void(int64_t)>& fn) {
    std::unique_lock<std::mutex> busy(call_, std::try_to_lock);
    if (workers_.empty() || n <= 1 || t_inside || !busy.owns_lock()) {
      for (int64_t i = 0; i < n; ++i) fn(i);
      return;
    }
    auto job = std::make_shared<Job>();
    job->fn = &fn;
    job->n = n;
    job->grain = std::max<int64_t>(1, n / (8 * threads_));  // still ~8 takes per thread, for balance
    {
      std::lock_guard<std::mutex> l(m_);
      job_ = job;
      gen_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    t_inside = true;
    job->drain();
    t_inside = false;
    // Items a worker is finishing: spin first (sched_yield is a system call, and a VM makes those slow:
    // 1.6% of a ResNet-18 run went to it), then yield so a descheduled worker can get the core.
    for (int spins = 0; job->done.load(std::memory_order_acquire) < n; ++spins)
      spins < (1 << 14) ? cpu_relax() : std::this_thread::yield();
    {
      std::lock_guard<std::mutex> l(m_);
      job_.reset();
    }
    if (job->error) std::rethrow_exception(job->error);
  }

  int threads() const { return threads_; }

 private:
  // A worker spins a little before it sleeps: a model runs its layers back to back, and waking a
  // sleeping thread (futex) costs tens of microseconds in a VM -- per layer, more than a small
  // layer's whole work (ResNet-18 at batch 1 ran 1.3x faster on 2 threads than on 1 before).
  static constexpr auto kSpin = std::chrono::microseconds(300);
  void work() {
    uint64_t seen = 0;
    for (;;) {
      const auto spin_end = std::chrono::steady_clock::now() + kSpin;
      while (gen_.load(std::memory_order_acquire) == seen && !stop_.load(std::memory_order_relaxed) &&
             std::chrono::steady_clock::now() < spin_end)
        cpu_relax();
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> l(m_);
        cv_.wait(l, [&] { return stop_ || gen_.load() != seen; });
        if (stop_) return;
        seen = gen_.load();
        job = job_;  // may be gone already: the caller finished everything
      }
      if (job) {
        t_inside = true;
        job->drain();
        t_inside = false;
      }
    }
  }

  int threads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex m_, call_;
  std::condition_variable cv_;
  std::shared_ptr<Job> job_;
  std::atomic<uint64_t> gen_{0};
  std::atomic<bool> stop_{false};  // set under m_; atomic so spinning workers can read it without the lock
};

Pool& pool() {
  static Pool p;
  return p;
}
}  // namespace

void parallel_for(int64_t n, const std::function<void(int64_t)>& fn) { pool().run(n, fn); }

int thread_count() { return pool().threads(); }

}  // namespace qfrt
