#include "qforge/train/optimizer.h"

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <cmath>
#include <stdexcept>

#include "qforge/exec/graph_module.h"

namespace qforge::train {

namespace {
template <typename Options>
std::vector<torch::optim::OptimizerParamGroup> groups(exec::GraphModule& m, const Options& base, bool decay_all,
                                                      const std::set<std::string>& own, double own_lr) {
  std::vector<at::Tensor> decay, no_decay, own_params;
  for (const auto& [name, t] : m.state()) {
    if (!t.requires_grad()) continue;
    if (own.count(name)) own_params.push_back(t);
    else if (t.dim() > 1 || decay_all) decay.push_back(t);
    else no_decay.push_back(t);
  }
  std::vector<torch::optim::OptimizerParamGroup> out;
  Options none = base;
  none.weight_decay(0.0);
  if (!decay.empty()) out.emplace_back(decay, std::make_unique<Options>(base));
  if (!no_decay.empty()) out.emplace_back(no_decay, std::make_unique<Options>(none));
  if (!own_params.empty()) {
    Options q = none;
    if (own_lr > 0) q.lr(own_lr);
    out.emplace_back(own_params, std::make_unique<Options>(q));
  }
  return out;
}
}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const recipe::OptimizerConfig& c, exec::GraphModule& m,
                                                        const std::set<std::string>& own, double own_lr) {
  if (c.name == "sgd") {
    auto o = torch::optim::SGDOptions(c.lr).momentum(c.momentum).nesterov(c.nesterov).weight_decay(c.weight_decay);
    return std::make_unique<torch::optim::SGD>(groups(m, o, c.decay_bn_and_bias, own, own_lr), o);
  }
  if (c.name == "adam") {
    auto o = torch::optim::AdamOptions(c.lr).betas({c.betas.at(0), c.betas.at(1)}).eps(c.eps).weight_decay(c.weight_decay);
    return std::make_unique<torch::optim::Adam>(groups(m, o, c.decay_bn_and_bias, own, own_lr), o);
  }
  if (c.name == "adamw") {
    auto o = torch::optim::AdamWOptions(c.lr).betas({c.betas.at(0), c.betas.at(1)}).eps(c.eps).weight_decay(c.weight_decay);
    return std::make_unique<torch::optim::AdamW>(groups(m, o, c.decay_bn_and_bias, own, own_lr), o);
  }
  throw std::invalid_argument("train.optimizer.name: '" + c.name + "' is not one of sgd, adam, adamw");
}

double learning_rate(const recipe::ScheduleConfig& s, double base_lr, int64_t step, int64_t steps_per_epoch,
                     int64_t total_epochs) {
  const int64_t warmup = s.warmup_epochs * steps_per_epoch;
  const int64_t total = std::max<int64_t>(1, total_epochs * steps_per_epoch);
  if (step < warmup) return base_lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  if (s.name == "cosine") {
    double t = static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, total - warmup));
    t = std::min(1.0, t);
    return s.min_lr + 0.5 * (base_lr - s.min_lr) * (1.0 + std::cos(M_PI * t));
  }
  if (s.name == "step") {
    double lr = base_lr;
    const int64_t epoch = step / std::max<int64_t>(1, steps_per_epoch);
    for (int m : s.milestones)
      if (epoch >= m) lr *= s.gamma;
    return lr;
  }
  return base_lr;
}

std::vector<double> group_learning_rates(const torch::optim::Optimizer& opt) {
  std::vector<double> out;
  for (const auto& g : opt.param_groups()) out.push_back(g.options().get_lr());
  return out;
}

void scale_learning_rate(torch::optim::Optimizer& opt, const std::vector<double>& base, double factor) {
  auto& groups = opt.param_groups();
  for (size_t i = 0; i < groups.size(); ++i) groups[i].options().set_lr(base.at(i) * factor);
}

}  // namespace qforge::train
