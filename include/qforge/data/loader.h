// A multi-threaded batch loader with prefetch. Order and augmentation depend only on
// (seed, epoch, batch index), never on thread timing or the worker count.
#pragma once
#include <ATen/ATen.h>

#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "qforge/data/dataset.h"
#include "qforge/data/transforms.h"

namespace qforge::data {

struct Batch {
  at::Tensor images;  // float [B, C, H, W], contiguous
  at::Tensor labels;  // int64 [B]
};

struct LoaderOptions {
  int64_t batch_size = 128;
  bool shuffle = false;
  uint64_t seed = 0;
  bool drop_last = false;
  int workers = 2;       // 0 = build batches on the calling thread
  int prefetch = 4;      // batches built ahead (at least 1)
  bool augment = false;  // apply crop/flip (resize/crop and normalize always apply)
  TransformOptions transforms;  // empty mean/std = default_normalization(dataset name, channels)
  // Optional extra step run on each finished batch (in a worker thread), with the batch's own
  // generator after the built-in augmentations have drawn from it. Must be thread-safe.
  std::function<void(Batch&, std::mt19937_64&)> batch_transform;
};

class DataLoader {
 public:
  // Checks the dataset and options (DataError on a mismatch); starts no threads yet.
  DataLoader(const Dataset& d, LoaderOptions o);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Ends the current epoch (joining its workers) and sets up `epoch`; workers start on the first next().
  void start_epoch(int64_t epoch);
  // The next batch in order; false at the end of the epoch. A failure while building batch k is
  // rethrown here when batch k is due (and again on later calls until start_epoch).
  bool next(Batch& out);
  int64_t num_batches() const;
  int64_t epoch() const { return epoch_; }

 private:
  Batch make_batch(int64_t index) const;
  void launch();
  void stop();
  void worker_loop();

  Dataset data_;
  LoaderOptions opt_;
  int64_t epoch_ = 0;
  std::vector<int64_t> order_;
  // Background state, guarded by mu_.
  std::vector<std::thread> threads_;
  bool launched_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int64_t, Batch> ready_;
  std::exception_ptr error_;
  int64_t error_index_ = -1;  // batch whose build failed (error_ set)
  int64_t next_to_build_ = 0, next_to_deliver_ = 0;
  bool stopping_ = false;
};

}  // namespace qforge::data
