#include "qforge/exec/graph_module.h"

#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "qforge/exec/tensor_convert.h"

namespace qforge::exec {

namespace {
// torch::nn::Module names may not contain '.', graph names usually do ("layer1.0.conv1.weight").
std::string module_key(const std::string& name) {
  std::string k = name;
  for (char& c : k)
    if (c == '.') c = '_';
  return k;
}
}  // namespace

GraphModule::GraphModule(ir::Graph graph) : graph_(std::move(graph)) {
  graph_.validate();
  // Weights live in the module; the structure keeps only metadata-free initializers to save memory.
  std::unordered_map<std::string, int> slot;
  std::unordered_set<std::string> keys;
  auto new_slot = [&](const std::string& v) { return slot[v] = num_slots_++; };
  for (auto& [name, t] : graph_.initializers) {
    at::Tensor a = to_aten(t);
    std::string key = module_key(name);
    if (!keys.insert(key).second) throw std::runtime_error("initializer '" + name + "' collides with another after renaming");
    bool trainable = !graph_.buffers.count(name) && a.is_floating_point();
    a = trainable ? register_parameter(key, a) : register_buffer(key, a);
    state_[name] = a;
    constant_slots_.push_back({new_slot(name), a});
    t = ir::Tensor(t.dtype, {});  // drop the copy; to_graph() rebuilds from state_
    t.shape = a.sizes().vec();
    t.bytes.clear();
  }
  for (const ir::ValueInfo& v : graph_.inputs)
    if (!slot.count(v.name)) input_slots_.push_back(new_slot(v.name));
  const OpRegistry& reg = OpRegistry::instance();
  std::unordered_map<int, size_t> last_use;
  for (const ir::Node& n : graph_.nodes) {
    Step s{&n, &reg.get(n), {}, {}, {}};
    for (const std::string& in : n.inputs) s.in_slots.push_back(in.empty() ? -1 : slot.at(in));
    for (const std::string& out : n.outputs) s.out_slots.push_back(out.empty() ? -1 : new_slot(out));
    for (int i : s.in_slots)
      if (i >= 0) last_use[i] = plan_.size();
    plan_.push_back(std::move(s));
  }
  for (const ir::ValueInfo& v : graph_.outputs) output_slots_.push_back(slot.at(v.name));
  std::unordered_set<int> keep(output_slots_.begin(), output_slots_.end());
  for (auto& [i, t] : constant_slots_) keep.insert(i);
  for (auto& [i, step] : last_use)
    if (!keep.count(i)) plan_[step].release.push_back(i);
}

std::vector<at::Tensor> GraphModule::forward(const std::vector<at::Tensor>& inputs) {
  if (inputs.size() != input_slots_.size())
    throw std::runtime_error("graph '" + graph_.name + "' takes " + std::to_string(input_slots_.size()) +
                             " inputs, got " + std::to_string(inputs.size()));
  std::vector<at::Tensor> slots(static_cast<size_t>(num_slots_));
  for (auto& [i, t] : constant_slots_) slots[i] = t;
  for (size_t k = 0; k < inputs.size(); ++k) slots[input_slots_[k]] = inputs[k];
  OpContext ctx{is_training()};
  std::vector<at::Tensor> args;
  for (const Step& s : plan_) {
    args.clear();
    for (int i : s.in_slots) args.push_back(i >= 0 ? slots[i] : at::Tensor());
    std::vector<at::Tensor> outs;
    try {
      outs = (*s.kernel)(*s.node, args, ctx);
    } catch (const c10::Error& e) {
      throw std::runtime_error("node '" + s.node->name + "' (" + s.node->op + "): " + e.what_without_backtrace());
    }
    for (size_t k = 0; k < s.out_slots.size(); ++k) {
      if (s.out_slots[k] < 0) continue;
      if (k >= outs.size() || !outs[k].defined())
        throw std::runtime_error("node '" + s.node->name + "' (" + s.node->op + "): output " + std::to_string(k) + " ('" +
                                 s.node->outputs[k] + "') is not supported");
      slots[s.out_slots[k]] = std::move(outs[k]);
    }
    for (int i : s.release) slots[i].reset();
  }
  std::vector<at::Tensor> out;
  for (int i : output_slots_) out.push_back(slots[i]);
  return out;
}

at::Tensor GraphModule::forward(const at::Tensor& input) {
  if (output_slots_.size() != 1)
    throw std::runtime_error("graph '" + graph_.name + "' has " + std::to_string(output_slots_.size()) + " outputs");
  return forward(std::vector<at::Tensor>{input})[0];
}

ir::Graph GraphModule::to_graph() const {
  ir::Graph g = graph_;
  for (auto& [name, t] : g.initializers) t = to_ir(state_.at(name));
  return g;
}

void GraphModule::load_state(const std::map<std::string, at::Tensor>& values) {
  at::NoGradGuard guard;
  for (const auto& [name, v] : values) {
    auto it = state_.find(name);
    if (it == state_.end()) throw std::runtime_error("state has '" + name + "', which the graph does not have");
    if (!it->second.sizes().equals(v.sizes()))
      throw std::runtime_error("'" + name + "': shape " + c10::str(v.sizes()) + " does not match the graph's " +
                               c10::str(it->second.sizes()));
    it->second.copy_(v);
  }
  for (const auto& [name, t] : state_)
    if (!values.count(name)) throw std::runtime_error("state is missing '" + name + "'");
}

int GraphModule::freeze_batchnorm() {
  int n = 0;
  for (ir::Node& node : graph_.nodes)
    if (node.op == "BatchNormalization" && node.attrs.i("frozen", 0) == 0) {
      node.attrs.set("frozen", int64_t{1});
      ++n;
    }
  return n;
}

}  // namespace qforge::exec
