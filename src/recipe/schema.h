// The recipe's keys, in file order, each with its member and its value rule. Reading, writing,
// comparing and the "allowed keys" lists all walk these tables, so a key added here is handled
// everywhere. Document a new key in include/qforge/recipe/recipe.h.
//
// A visitor V for struct S provides
//   v.field(key, &S::member)            v.field(key, &S::member, Check<T> / ListCheck<T>)
//   v.section(key, &S::substruct)       (walks schema(..., Tag<Sub>) for the substruct)
#pragma once
#include "checks.h"
#include "qforge/recipe/recipe.h"

namespace qforge::recipe::detail {

template <class S>
struct Tag {};

template <class V>
void schema(V& v, Tag<ModelConfig>) {
  using M = ModelConfig;
  v.field("zoo", &M::zoo);
  v.field("onnx", &M::onnx);
  v.field("in_channels", &M::in_channels, int_at_least(1));
  v.field("num_classes", &M::num_classes, int_at_least(1));
  v.field("width", &M::width, real_above(0));
  v.field("input_size", &M::input_size, ListCheck<int>{int_at_least(1), 2});
}

template <class V>
void schema(V& v, Tag<AugmentConfig>) {
  using A = AugmentConfig;
  v.field("crop_padding", &A::crop_padding, int_at_least(0));
  v.field("hflip", &A::hflip);
  v.field("resize", &A::resize, int_at_least(0));
  v.field("center_crop", &A::center_crop, int_at_least(0));
}

template <class V>
void schema(V& v, Tag<NormalizeConfig>) {
  using N = NormalizeConfig;
  v.field("mean", &N::mean, ListCheck<double>{});
  v.field("std", &N::std, ListCheck<double>{real_above(0)});
}

template <class V>
void schema(V& v, Tag<DataConfig>) {
  using D = DataConfig;
  v.field("name", &D::name, non_empty());
  v.field("root", &D::root);
  v.field("subset", &D::subset, subset_value());
  v.field("test_subset", &D::test_subset, subset_value());
  v.field("workers", &D::workers, int_at_least(0));
  v.section("augment", &D::augment);
  v.section("normalize", &D::normalize);
}

template <class V>
void schema(V& v, Tag<OptimizerConfig>) {
  using O = OptimizerConfig;
  v.field("name", &O::name, one_of({"sgd", "adam", "adamw"}));
  v.field("lr", &O::lr, real_above(0));
  v.field("momentum", &O::momentum, real_in_unit_range());
  v.field("nesterov", &O::nesterov);
  v.field("weight_decay", &O::weight_decay, real_at_least(0));
  v.field("decay_bn_and_bias", &O::decay_bn_and_bias);
  v.field("betas", &O::betas, ListCheck<double>{real_in_unit_range(), 2});
  v.field("eps", &O::eps, real_above(0));
}

template <class V>
void schema(V& v, Tag<ScheduleConfig>) {
  using S = ScheduleConfig;
  v.field("name", &S::name, one_of({"cosine", "step", "constant"}));
  v.field("warmup_epochs", &S::warmup_epochs, int_at_least(0));
  v.field("milestones", &S::milestones, ListCheck<int>{int_at_least(0)});
  v.field("gamma", &S::gamma, real_above(0));
  v.field("min_lr", &S::min_lr, real_at_least(0));
}

template <class V>
void schema(V& v, Tag<TrainConfig>) {
  using T = TrainConfig;
  v.field("epochs", &T::epochs, int_at_least(0));
  v.field("batch_size", &T::batch_size, int_at_least(1));
  v.field("eval_batch_size", &T::eval_batch_size, int_at_least(1));
  v.field("seed", &T::seed);
  v.field("threads", &T::threads, int_at_least(0));
  v.field("label_smoothing", &T::label_smoothing, real_in_unit_range());
  v.field("log_every", &T::log_every, int_at_least(0));
  v.field("checkpoint_every", &T::checkpoint_every, int_at_least(0));
  v.field("eval_every", &T::eval_every, int_at_least(0));
  v.field("device", &T::device, device_name());
  v.section("optimizer", &T::optimizer);
  v.section("schedule", &T::schedule);
}

template <class V>
void schema(V& v, Tag<Recipe>) {
  v.section("model", &Recipe::model);
  v.section("data", &Recipe::data);
  v.section("train", &Recipe::train);
  v.field("init", &Recipe::init);
  v.field("quantize", &Recipe::quantize);
  v.field("ptq", &Recipe::ptq);
}

// Collects the keys of struct S, in order.
template <class S>
struct KeyLister {
  std::vector<std::string> keys;
  template <class M, class... C>
  void field(const char* k, M S::*, const C&...) { keys.push_back(k); }
  template <class M>
  void section(const char* k, M S::*) { keys.push_back(k); }
};

template <class S>
std::vector<std::string> schema_keys() {
  KeyLister<S> lister;
  schema(lister, Tag<S>{});
  return lister.keys;
}

}  // namespace qforge::recipe::detail
