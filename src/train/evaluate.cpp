#include "qforge/train/evaluate.h"

#include <cstdio>

#include "qforge/data/loader.h"
#include "qforge/exec/graph_module.h"
#include "qforge/train/progress.h"

namespace qforge::train {

nlohmann::json EvalResult::to_json() const {
  return {{"loss", loss}, {"top1", top1}, {"top5", top5}, {"count", count}, {"seconds", seconds}};
}

int64_t count_topk(const at::Tensor& logits, const at::Tensor& labels, int64_t k) {
  k = std::min<int64_t>(k, logits.size(1));
  at::Tensor top = std::get<1>(logits.topk(k, 1));
  return top.eq(labels.view({-1, 1})).any(1).sum().item<int64_t>();
}

EvalResult evaluate(exec::GraphModule& model, data::DataLoader& loader, bool quiet) {
  const bool was_training = model.is_training();
  model.eval();
  at::NoGradGuard no_grad;
  EvalResult r;
  Progress progress("eval", loader.num_batches(), 0, quiet);
  double loss_sum = 0;
  int64_t c1 = 0, c5 = 0, step = 0;
  loader.start_epoch(0);
  data::Batch b;
  while (loader.next(b)) {
    at::Tensor logits = model.forward(b.images);
    loss_sum += at::cross_entropy_loss(logits, b.labels, {}, at::Reduction::Sum).item<double>();
    c1 += count_topk(logits, b.labels, 1);
    c5 += count_topk(logits, b.labels, 5);
    r.count += b.labels.size(0);
    progress.update(++step, r.count, "");
  }
  if (r.count > 0) {
    r.loss = loss_sum / r.count;
    r.top1 = 100.0 * c1 / r.count;
    r.top5 = 100.0 * c5 / r.count;
  }
  r.seconds = progress.elapsed_s();
  if (was_training) model.train();
  return r;
}

}  // namespace qforge::train
