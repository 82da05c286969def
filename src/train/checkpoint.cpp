#include "qforge/train/checkpoint.h"

#include <torch/optim/optimizer.h>
#include <torch/serialize.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "qforge/exec/graph_module.h"
#include "qforge/exec/tensor_convert.h"
#include "qforge/ir/serialize.h"

namespace qforge::train {

namespace {
constexpr const char* kFormat = "qforge-checkpoint-1";

std::string read_string(torch::serialize::InputArchive& a, const std::string& key, const std::string& path) {
  c10::IValue v;
  if (!a.try_read(key, v) || !v.isString()) throw CheckpointError(path + ": not a qforge checkpoint (no '" + key + "' entry)");
  return v.toStringRef();
}
}  // namespace

void save_archive_atomically(torch::serialize::OutputArchive& archive, const std::string& path, const std::string& what) {
  const std::string tmp = path + ".tmp";
  try {
    const std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir);
    archive.save_to(tmp);
    std::filesystem::rename(tmp, path);
  } catch (const std::exception& e) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    const auto* c10e = dynamic_cast<const c10::Error*>(&e);  // its what() carries a backtrace
    throw std::runtime_error(path + ": cannot write " + what + ": " + (c10e ? c10e->what_without_backtrace() : e.what()));
  }
}

void save_checkpoint(const std::string& path, const exec::GraphModule& model, const torch::optim::Optimizer* optimizer,
                     const CheckpointMeta& meta) {
  torch::serialize::OutputArchive a;
  const ir::Graph& g = model.structure();
  a.write("format", c10::IValue(std::string(kFormat)));
  a.write("graph", c10::IValue(ir::graph_to_json(g).dump()));
  a.write("recipe", c10::IValue(meta.recipe_yaml));
  nlohmann::json m = {{"epoch", meta.epoch}, {"step", meta.step}, {"best_top1", meta.best_top1}, {"metrics", meta.metrics}};
  a.write("meta", c10::IValue(m.dump()));
  int64_t i = 0;
  for (const auto& [name, t] : g.initializers) a.write("t/" + std::to_string(i++), model.state().at(name).detach().to(at::kCPU), true);
  if (optimizer) {
    torch::serialize::OutputArchive opt;
    optimizer->save(opt);
    a.write("optimizer", opt);
  }
  try {
    save_archive_atomically(a, path, "checkpoint");
  } catch (const std::runtime_error& e) {
    throw CheckpointError(e.what());
  }
}

Checkpoint load_checkpoint(const std::string& path) {
  if (!std::filesystem::exists(path)) throw CheckpointError(path + ": no such file");
  torch::serialize::InputArchive a;
  try {
    a.load_from(path);
  } catch (const std::exception& e) {
    const std::string why = e.what();  // libtorch appends a backtrace after the first line
    throw CheckpointError(path + ": not a readable checkpoint (corrupt or not a qforge file): " + why.substr(0, std::min<size_t>(200, why.find('\n'))));
  }
  if (read_string(a, "format", path) != kFormat)
    throw CheckpointError(path + ": unsupported checkpoint format '" + read_string(a, "format", path) + "' (this build reads " + kFormat + ")");
  Checkpoint c;
  c.path = path;
  try {
    c.graph = ir::graph_from_json(nlohmann::json::parse(read_string(a, "graph", path)));
    nlohmann::json m = nlohmann::json::parse(read_string(a, "meta", path));
    c.meta.epoch = m.at("epoch").get<int64_t>();
    c.meta.step = m.at("step").get<int64_t>();
    c.meta.best_top1 = m.at("best_top1").get<double>();
    c.meta.metrics = m.at("metrics");
  } catch (const CheckpointError&) {
    throw;
  } catch (const std::exception& e) {
    throw CheckpointError(path + ": corrupt checkpoint metadata: " + e.what());
  }
  c.meta.recipe_yaml = read_string(a, "recipe", path);
  int64_t i = 0;
  for (auto& [name, t] : c.graph.initializers) {
    at::Tensor v;
    try {
      a.read("t/" + std::to_string(i++), v, true);
    } catch (const std::exception&) {
      throw CheckpointError(path + ": tensor for '" + name + "' is missing");
    }
    if (v.sizes().vec() != t.shape)
      throw CheckpointError(path + ": tensor for '" + name + "' has shape " + c10::str(v.sizes()) + ", graph says " + ir::shape_str(t.shape));
    t = exec::to_ir(v);
  }
  torch::serialize::InputArchive opt;
  c.has_optimizer = a.try_read("optimizer", opt);
  return c;
}

void load_optimizer_state(const std::string& path, torch::optim::Optimizer& optimizer) {
  torch::serialize::InputArchive a, opt;
  a.load_from(path);
  if (!a.try_read("optimizer", opt)) throw CheckpointError(path + ": holds no optimizer state to resume from");
  try {
    optimizer.load(opt);
  } catch (const std::exception& e) {
    throw CheckpointError(path + ": optimizer state does not match this run's parameters: " + std::string(e.what()).substr(0, 200));
  }
}

}  // namespace qforge::train
