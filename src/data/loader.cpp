#include "qforge/data/loader.h"

#include <algorithm>
#include <numeric>

namespace qforge::data {

namespace {
// A distinct, reproducible stream per (seed, epoch, batch).
uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t x = a * 0x9E3779B97F4A7C15ULL ^ (b + 0x632BE59BD9B4E019ULL + (a << 6) + (a >> 2));
  x ^= x >> 31;
  return x * 0xBF58476D1CE4E5B9ULL;
}
}  // namespace

DataLoader::DataLoader(const Dataset& d, LoaderOptions o) : data_(d), opt_(std::move(o)) {
  if (opt_.batch_size < 1) throw DataError("batch size must be >= 1");
  data_.images = data_.images.contiguous();
  if (opt_.transforms.mean.empty()) {
    NormalizeStats s = default_normalization(d.name, d.images.size(1));
    opt_.transforms.mean = s.mean;
    opt_.transforms.std = s.std;
  }
  start_epoch(0);
}

DataLoader::~DataLoader() { stop(); }

int64_t DataLoader::num_batches() const {
  const int64_t n = data_.size();
  return opt_.drop_last ? n / opt_.batch_size : (n + opt_.batch_size - 1) / opt_.batch_size;
}

void DataLoader::stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void DataLoader::start_epoch(int64_t epoch) {
  stop();
  epoch_ = epoch;
  order_.resize(static_cast<size_t>(data_.size()));
  std::iota(order_.begin(), order_.end(), 0);
  if (opt_.shuffle) {
    std::mt19937_64 rng(mix(opt_.seed, static_cast<uint64_t>(epoch)));
    std::shuffle(order_.begin(), order_.end(), rng);
  }
  ready_.clear();
  error_ = nullptr;
  next_to_build_ = next_to_deliver_ = 0;
  stopping_ = false;
  for (int i = 0; i < opt_.workers; ++i) threads_.emplace_back([this] { worker_loop(); });
}

Batch DataLoader::make_batch(int64_t index) const {
  const int64_t begin = index * opt_.batch_size, end = std::min(data_.size(), begin + opt_.batch_size);
  const int64_t n = end - begin, C = data_.images.size(1), H = data_.images.size(2), W = data_.images.size(3);
  const int64_t row = C * H * W;
  at::Tensor img = at::empty({n, C, H, W}, at::kByte);
  Batch b;
  b.labels = at::empty({n}, at::kLong);
  const uint8_t* src = data_.images.data_ptr<uint8_t>();
  const int64_t* lab = data_.labels.data_ptr<int64_t>();
  uint8_t* dst = img.data_ptr<uint8_t>();
  int64_t* dl = b.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = order_[static_cast<size_t>(begin + i)];
    std::memcpy(dst + i * row, src + k * row, static_cast<size_t>(row));
    dl[i] = lab[k];
  }
  const TransformOptions& t = opt_.transforms;
  if (opt_.augment) {
    std::mt19937_64 rng(mix(mix(opt_.seed, static_cast<uint64_t>(epoch_)), static_cast<uint64_t>(index)));
    img = random_crop(img, t.crop_padding, rng);
    if (t.hflip) img = random_hflip(img, rng);
  }
  img = resize_center_crop(img, t.resize, t.center_crop);
  b.images = normalize(img, t.mean, t.std);
  return b;
}

void DataLoader::worker_loop() {
  const int64_t total = num_batches();
  for (;;) {
    int64_t index;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return stopping_ || next_to_build_ >= total || next_to_build_ - next_to_deliver_ < opt_.prefetch; });
      if (stopping_ || next_to_build_ >= total || error_) return;
      index = next_to_build_++;
    }
    try {
      Batch b = make_batch(index);
      std::lock_guard<std::mutex> l(mu_);
      ready_[index] = std::move(b);
    } catch (...) {
      std::lock_guard<std::mutex> l(mu_);
      error_ = std::current_exception();
    }
    cv_.notify_all();
  }
}

bool DataLoader::next(Batch& out) {
  if (next_to_deliver_ >= num_batches()) return false;
  if (threads_.empty()) {  // inline mode
    out = make_batch(next_to_deliver_++);
    return true;
  }
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return error_ || ready_.count(next_to_deliver_); });
  if (error_) std::rethrow_exception(error_);
  auto it = ready_.find(next_to_deliver_);
  out = std::move(it->second);
  ready_.erase(it);
  ++next_to_deliver_;
  l.unlock();
  cv_.notify_all();
  return true;
}

}  // namespace qforge::data
