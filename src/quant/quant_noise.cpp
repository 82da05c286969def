#include "qforge/quant/quant_noise.h"

#include <vector>

namespace qforge::quant {

at::Tensor add_quant_noise(const at::Tensor& w, double noise, const at::Tensor& step) {
  if (!(noise > 0)) return w;
  at::Tensor s = step.detach().to(w.scalar_type());
  if (s.dim() == 1 && w.dim() > 1 && s.size(0) == w.size(0)) {  // one step per output channel
    std::vector<int64_t> shape(static_cast<size_t>(w.dim()), 1);
    shape[0] = s.size(0);
    s = s.reshape(shape);
  }
  at::Tensor e;
  {
    at::NoGradGuard g;
    e = (at::rand_like(w, w.options().requires_grad(false)) - 0.5) * noise * s;
  }
  return w + e;
}

}  // namespace qforge::quant
