#include "qforge/train/data_setup.h"

#include <stdexcept>

namespace qforge::train {

namespace {
data::Dataset take(const data::Dataset& d, double subset, const char* key) {
  if (subset == 0) return d;
  const int64_t n = static_cast<int64_t>(recipe::subset_count(subset, static_cast<size_t>(d.size())));
  if (subset >= 1 && n < static_cast<int64_t>(subset))
    std::fprintf(stderr, "warning: %s=%g but %s has only %lld images; using all of them\n", key, subset, d.name.c_str(),
                 (long long)d.size());
  return data::subset(d, n);
}

void check_fits(const data::Dataset& d, const recipe::ModelConfig& m) {
  const int64_t c = d.images.size(1), h = d.images.size(2), w = d.images.size(3);
  if (c != m.in_channels)
    throw std::runtime_error("data: " + d.name + " images have " + std::to_string(c) + " channels but model.in_channels is " +
                             std::to_string(m.in_channels));
  if (d.num_classes > m.num_classes)
    throw std::runtime_error("data: " + d.name + " has " + std::to_string(d.num_classes) + " classes but model.num_classes is " +
                             std::to_string(m.num_classes));
  (void)h;
  (void)w;
}
}  // namespace

DataSplits load_splits(const recipe::DataConfig& cfg, const recipe::ModelConfig& model, bool need_train) {
  DataSplits s;
  if (need_train) {
    s.train = take(data::load_dataset(cfg.name, cfg.root, true), cfg.subset, "data.subset");
    check_fits(s.train, model);
  }
  s.test = take(data::load_dataset(cfg.name, cfg.root, false), cfg.test_subset, "data.test_subset");
  check_fits(s.test, model);
  return s;
}

data::LoaderOptions loader_options(const recipe::DataConfig& cfg, const recipe::ModelConfig& model, int64_t batch_size,
                                   bool training, uint64_t seed) {
  data::LoaderOptions o;
  o.batch_size = batch_size;
  o.shuffle = training;
  o.seed = seed;
  o.drop_last = false;
  o.workers = cfg.workers;
  o.augment = training;
  o.transforms.crop_padding = cfg.augment.crop_padding;
  o.transforms.hflip = cfg.augment.hflip;
  o.transforms.resize = cfg.augment.resize;
  o.transforms.center_crop = cfg.augment.center_crop;
  if (cfg.normalize.mean.empty()) {
    data::NormalizeStats st = data::default_normalization(cfg.name, model.in_channels);
    o.transforms.mean = st.mean;
    o.transforms.std = st.std;
  } else {
    o.transforms.mean = cfg.normalize.mean;
    o.transforms.std = cfg.normalize.std;
  }
  return o;
}

}  // namespace qforge::train
