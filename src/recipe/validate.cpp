// Rules that involve more than one key. Per-key rules live in schema.h.
#include "internal.h"

namespace qforge::recipe::detail {

void validate_recipe(const Recipe& r, const Context& ctx) {
  const ModelConfig& m = r.model;
  if (m.zoo.empty() == m.onnx.empty())
    ctx.fail("model", std::string("set exactly one of model.zoo (a built-in network) or "
                                  "model.onnx (a model file); got ") +
                          (m.zoo.empty() ? "neither" : "both"));

  const NormalizeConfig& n = r.data.normalize;
  if (n.mean.size() != n.std.size())
    ctx.fail("data.normalize", "mean and std need the same number of values (one per channel, "
                               "or both [] for the dataset's default); got " +
                                   std::to_string(n.mean.size()) + " and " +
                                   std::to_string(n.std.size()));

  const OptimizerConfig& o = r.train.optimizer;
  if (o.name == "sgd" && o.nesterov && o.momentum <= 0)
    ctx.fail("train.optimizer.nesterov", "true needs train.optimizer.momentum > 0");

  const ScheduleConfig& s = r.train.schedule;
  if (s.name == "step" && s.milestones.empty())
    ctx.fail("train.schedule.milestones",
             "the step schedule needs at least one milestone (an epoch), e.g. [10, 20]");
  for (size_t i = 1; i < s.milestones.size(); ++i)
    if (s.milestones[i] <= s.milestones[i - 1])
      ctx.fail("train.schedule.milestones", "expected increasing epochs, got " +
                                                std::to_string(s.milestones[i - 1]) + " then " +
                                                std::to_string(s.milestones[i]));
  if (s.name == "cosine" && s.min_lr > o.lr)
    ctx.fail("train.schedule.min_lr", "expected a number <= train.optimizer.lr (" +
                                          format_real(o.lr) + "), got " + format_real(s.min_lr));
}

}  // namespace qforge::recipe::detail
