// DataLoader: worker threads build batches (gather rows, augment, normalize) ahead of the consumer
// into a bounded map keyed by batch index; next() hands them out in index order.
#include "qforge/data/loader.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "rng.h"

namespace qforge::data {

DataLoader::DataLoader(const Dataset& d, LoaderOptions o) : data_(d), opt_(std::move(o)) {
  const std::string who = "data loader (" + (d.name.empty() ? std::string("unnamed dataset") : d.name) + ")";
  if (!d.images.defined() || d.images.dim() != 4 || d.images.scalar_type() != at::kByte)
    throw DataError(who + ": images must be uint8 [N, C, H, W], got " +
                    (d.images.defined() ? std::string(c10::toString(d.images.scalar_type())) + " " + c10::str(d.images.sizes())
                                        : "undefined"));
  if (!d.labels.defined() || d.labels.dim() != 1 || d.labels.size(0) != d.images.size(0) ||
      !at::isIntegralType(d.labels.scalar_type(), false))
    throw DataError(who + ": labels must be integers [N] with N = " + std::to_string(d.images.size(0)) + ", got " +
                    (d.labels.defined() ? std::string(c10::toString(d.labels.scalar_type())) + " " + c10::str(d.labels.sizes())
                                        : "undefined"));
  if (opt_.batch_size < 1) throw DataError(who + ": batch size must be >= 1, got " + std::to_string(opt_.batch_size));
  if (opt_.workers < 0) throw DataError(who + ": workers must be >= 0, got " + std::to_string(opt_.workers));
  if (opt_.transforms.crop_padding < 0)
    throw DataError(who + ": crop padding must be >= 0, got " + std::to_string(opt_.transforms.crop_padding));
  opt_.prefetch = std::max(opt_.prefetch, 1);
  data_.images = data_.images.contiguous();
  data_.labels = data_.labels.to(at::kLong).contiguous();
  TransformOptions& t = opt_.transforms;
  if (t.mean.empty() && t.std.empty()) {
    NormalizeStats s = default_normalization(d.name, d.images.size(1));
    t.mean = s.mean;
    t.std = s.std;
  }
  // Dry run on an empty batch: checks the crop size against the (resized) image and mean/std counts.
  try {
    normalize(resize_center_crop(at::empty({0, d.images.size(1), d.images.size(2), d.images.size(3)}, at::kByte), t.resize,
                                 t.center_crop),
              t.mean, t.std);
  } catch (const DataError& e) {
    throw DataError(who + ": " + e.what());
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
  if (opt_.shuffle) {  // Fisher-Yates, seeded by (seed, epoch) only
    std::mt19937_64 rng(detail::mix_seed(opt_.seed, static_cast<uint64_t>(epoch)));
    for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[detail::uniform_below(rng, i)]);
  }
  std::lock_guard<std::mutex> l(mu_);
  ready_.clear();
  error_ = nullptr;
  error_index_ = -1;
  next_to_build_ = next_to_deliver_ = 0;
  stopping_ = false;
  launched_ = false;
}

void DataLoader::launch() {
  launched_ = true;
  const int64_t n = std::min<int64_t>(opt_.workers, num_batches());
  for (int64_t i = 0; i < n; ++i) threads_.emplace_back([this] { worker_loop(); });
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
    if (row) std::memcpy(dst + i * row, src + k * row, static_cast<size_t>(row));
    dl[i] = lab[k];
  }
  const TransformOptions& t = opt_.transforms;
  std::mt19937_64 rng(detail::mix_seed(detail::mix_seed(opt_.seed, static_cast<uint64_t>(epoch_)), static_cast<uint64_t>(index)));
  if (opt_.augment) {
    if (t.crop_padding > 0) img = random_crop(img, t.crop_padding, rng);
    if (t.hflip) img = random_hflip(img, rng);
  }
  img = resize_center_crop(img, t.resize, t.center_crop);
  b.images = normalize(img, t.mean, t.std);
  if (opt_.batch_transform) opt_.batch_transform(b, rng);
  return b;
}

void DataLoader::worker_loop() {
  const int64_t total = num_batches();
  for (;;) {
    int64_t index;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] {
        return stopping_ || error_ || next_to_build_ >= total || next_to_build_ - next_to_deliver_ < opt_.prefetch;
      });
      if (stopping_ || error_ || next_to_build_ >= total) return;
      index = next_to_build_++;
    }
    Batch b;
    std::exception_ptr e;
    try {
      b = make_batch(index);
    } catch (...) {
      e = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!e) {
        ready_.emplace(index, std::move(b));
      } else if (!error_ || index < error_index_) {  // keep the earliest failing batch: deterministic
        error_ = e;
        error_index_ = index;
      }
    }
    cv_.notify_all();
  }
}

bool DataLoader::next(Batch& out) {
  if (next_to_deliver_ >= num_batches()) return false;
  if (opt_.workers == 0) {  // inline mode; a failing batch fails again on the next call
    out = make_batch(next_to_deliver_);
    ++next_to_deliver_;
    return true;
  }
  if (!launched_) launch();
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return ready_.count(next_to_deliver_) || (error_ && error_index_ == next_to_deliver_); });
  auto it = ready_.find(next_to_deliver_);
  if (it == ready_.end()) std::rethrow_exception(error_);
  out = std::move(it->second);
  ready_.erase(it);
  ++next_to_deliver_;
  l.unlock();
  cv_.notify_all();
  return true;
}

}  // namespace qforge::data
