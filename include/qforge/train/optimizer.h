// Optimizers and learning-rate schedules built from a recipe.
#pragma once
#include <torch/optim/optimizer.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "qforge/recipe/recipe.h"

namespace qforge::exec {
class GraphModule;
}

namespace qforge::train {

// SGD (momentum, nesterov), Adam or AdamW over up to three parameter groups: weights (dim > 1)
// with weight decay; BatchNorm parameters and biases without (unless optimizer.decay_bn_and_bias);
// and `own_group` parameters (quantizer step sizes, clip values, ...) without weight decay at
// learning rate `own_lr` (0 = the optimizer's).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const recipe::OptimizerConfig& cfg, exec::GraphModule& model,
                                                        const std::set<std::string>& own_group = {}, double own_lr = 0);

// Each group's learning rate as created, so schedules can scale groups with different rates.
std::vector<double> group_learning_rates(const torch::optim::Optimizer& opt);

// Learning rate at optimizer step `step` (0-based): linear warm-up from lr/steps_per_epoch... to lr over
// warmup_epochs, then cosine decay to min_lr, step decay by gamma at milestones, or constant.
double learning_rate(const recipe::ScheduleConfig& s, double base_lr, int64_t step, int64_t steps_per_epoch,
                     int64_t total_epochs);

// Sets every group's learning rate to its base rate times `factor` (the schedule's lr / peak lr).
void scale_learning_rate(torch::optim::Optimizer& opt, const std::vector<double>& base, double factor);

}  // namespace qforge::train
