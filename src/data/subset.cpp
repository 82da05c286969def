// Leading subsets of a dataset (views: no copy).
#include <cmath>

#include "qforge/data/dataset.h"

namespace qforge::data {

Dataset subset(const Dataset& d, int64_t n) {
  if (n < 0 || n > d.size())
    throw DataError(d.name + ": subset of " + std::to_string(n) + " examples out of " + std::to_string(d.size()));
  Dataset s = d;
  s.images = d.images.narrow(0, 0, n);
  s.labels = d.labels.narrow(0, 0, n);
  return s;
}

Dataset subset_fraction(const Dataset& d, double fraction) {
  if (!(fraction > 0 && fraction <= 1))
    throw DataError(d.name + ": subset fraction must be in (0, 1], got " + std::to_string(fraction));
  int64_t n = static_cast<int64_t>(std::llround(fraction * static_cast<double>(d.size())));
  if (d.size() > 0) n = std::max<int64_t>(n, 1);
  return subset(d, n);
}

}  // namespace qforge::data
