// A multi-threaded batch loader with prefetch. Order and augmentation depend only on
// (seed, epoch, batch index), never on thread timing or the worker count.
#pragma once
#include <ATen/ATen.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "qforge/data/dataset.h"
#include "qforge/data/transforms.h"

namespace qforge::data {

struct LoaderOptions {
  int64_t batch_size = 128;
  bool shuffle = false;
  uint64_t seed = 0;
  bool drop_last = false;
  int workers = 2;   // 0 = build batches on the calling thread
  int prefetch = 4;  // batches built ahead
  bool augment = false;  // apply crop/flip (resize/crop and normalize always apply)
  TransformOptions transforms;
};

struct Batch {
  at::Tensor images;  // float [B, C, H, W]
  at::Tensor labels;  // int64 [B]
};

class DataLoader {
 public:
  DataLoader(const Dataset& d, LoaderOptions o);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  void start_epoch(int64_t epoch);
  bool next(Batch& out);  // false at the end of the epoch; rethrows a worker's exception
  int64_t num_batches() const;

 private:
  Batch make_batch(int64_t index) const;
  void stop();
  void worker_loop();

  Dataset data_;
  LoaderOptions opt_;
  int64_t epoch_ = 0;
  std::vector<int64_t> order_;
  // Background state
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int64_t, Batch> ready_;
  std::exception_ptr error_;
  int64_t next_to_build_ = 0, next_to_deliver_ = 0;
  bool stopping_ = false;
};

}  // namespace qforge::data
