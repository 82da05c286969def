#include "graph/model.h"

#include <algorithm>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "core/env.h"
#include "core/error.h"
#include "core/parallel.h"
#include "graph/batch_split.h"
#include "graph/codebook.h"
#include "graph/lower_qdq.h"
#include "pack/qfp.h"
#include "pack/widths.h"

namespace qfrt {

// A .qfp holds a graph that is lowered already (Graph::lowered); an ONNX file is lowered when asked.
Model::Model(const std::string& path, bool lower) : Model(is_qfp_file(path) ? read_qfp(path) : load_onnx(path), lower) {}

Model::Model(Graph g, bool lower) : g_(std::move(g)) {
  try {
    // Codebook layers move onto integer grids before lowering (a .qfp's lowering left them float, so it
    // runs again for them): by default only codebooks that such a grid holds exactly (binary, ternary,
    // uniform levels), the others keep their levels, in float; QFORGE_RT_CODEBOOK=int8 moves every one,
    // =float none.
    const CodebookMode cm = lower ? codebook_mode_from_env() : CodebookMode::Float;
    const bool regrid = cm != CodebookMode::Float && codebooks_to_int8(g_, cm == CodebookMode::Exact) > 0;
    if (lower && (!g_.lowered || regrid)) lower_qdq(g_, !g_.lowered);
    if (g_.lowered) fold_constant_dequantize(g_);  // a .qfp keeps float layers' int8 weights packed
    annotate_widths(g_);  // before rewrite 9: it reads each layer's input range off the QuantizeLinear that made it
    // QFORGE_RT_FUSE_Q=0 keeps QuantizeLinear after a float-output conv as its own pass (A/B checks).
    static const bool fuse_q_off = env_is_zero("QFORGE_RT_FUSE_Q");
    if (lower && !fuse_q_off) fuse_output_quantize(g_);
    // QFORGE_RT_FUSE_CLIP=0 keeps a per-channel clip (qf.QChannelMin) as its own pass (A/B checks).
    static const bool fuse_clip_off = env_is_zero("QFORGE_RT_FUSE_CLIP");
    if (lower && !fuse_clip_off) fuse_channel_clip(g_);
    compile();
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (!g_.source.empty() && msg.rfind(g_.source, 0) != 0) fail(g_.source + ": " + msg);
    throw;
  }
}

std::map<std::string, int> Model::ops() const { return op_histogram(g_); }

std::map<std::string, int> Model::kernels() const {
  std::map<std::string, int> k;
  for (const Step& s : steps_)
    if (!s.op->kernel().empty()) ++k[s.op->kernel()];
  return k;
}

void Model::compile() {
  std::map<std::string, int> slot;
  auto slot_of = [&](const std::string& v) {
    auto it = slot.find(v);
    if (it != slot.end()) return it->second;
    const int s = static_cast<int>(slot.size());
    slot[v] = s;
    return s;
  };
  for (const auto& kv : g_.initializers) slot_of(kv.first);
  for (const auto& v : g_.inputs) input_slots_.push_back(slot_of(v));
  for (const Node& n : g_.nodes) {
    Step s;
    s.op = make_op(n, g_);
    for (const auto& v : n.inputs) {
      if (v.empty()) {
        s.in.push_back(-1);
        continue;
      }
      if (!slot.count(v)) fail(n.label() + ": input '" + v + "' is not computed before this node");
      s.in.push_back(slot.at(v));
    }
    for (const auto& v : n.outputs) s.out.push_back(v.empty() ? -1 : slot_of(v));
    steps_.push_back(std::move(s));
  }
  for (const auto& v : g_.outputs) {
    if (!slot.count(v)) fail("graph output '" + v + "' is not computed");
    output_slots_.push_back(slot.at(v));
  }
  nslots_ = slot.size();
  // Batch parts: every node per image and safe to run on two threads at once; not while profiling (the
  // per-layer times would interleave) or with QFORGE_RT_BATCH_PARTS=0 (A/B checks).
  static const bool parts_off = env_is_zero("QFORGE_RT_BATCH_PARTS") || std::getenv("QFORGE_RT_PROFILE");
  batch_parts_ = !parts_off;
  for (size_t i = 0; i < steps_.size(); ++i) batch_parts_ = batch_parts_ && steps_[i].op->reentrant() && batch_independent(g_.nodes[i], g_);
  constants_.assign(nslots_, nullptr);
  for (const auto& kv : g_.initializers) constants_[static_cast<size_t>(slot.at(kv.first))] = &kv.second;
  // Free each intermediate after its last reader.
  std::set<int> keep(output_slots_.begin(), output_slots_.end());
  std::vector<int> last(nslots_, -1);
  for (size_t i = 0; i < steps_.size(); ++i)
    for (int s : steps_[i].in)
      if (s >= 0) last[static_cast<size_t>(s)] = static_cast<int>(i);
  for (size_t s = 0; s < nslots_; ++s)
    if (last[s] >= 0 && !constants_[s] && !keep.count(static_cast<int>(s)))
      steps_[static_cast<size_t>(last[s])].release.push_back(static_cast<int>(s));
}

std::vector<Tensor> Model::run(const std::vector<Tensor>& inputs) {
  if (inputs.size() != input_slots_.size())
    fail(g_.source + ": the model takes " + std::to_string(input_slots_.size()) + " input(s), got " + std::to_string(inputs.size()));
  // A batch of at least one image per thread, the same size in every input: one part per thread.
  int64_t batch = 0, parts = batch_parts_ ? thread_count() : 1;
  for (const Tensor& x : inputs) {
    if (x.rank() < 1 || (batch && x.dim(0) != batch)) parts = 1;
    batch = x.rank() ? x.dim(0) : 0;
  }
  if (parts < 2 || batch < parts) return run_steps(inputs);
  std::vector<std::vector<Tensor>> out(static_cast<size_t>(parts));
  parallel_for(parts, [&](int64_t p) {
    std::vector<Tensor> slice;
    for (const Tensor& x : inputs) slice.push_back(batch_slice(x, part_begin(batch, parts, p), part_begin(batch, parts, p + 1)));
    out[static_cast<size_t>(p)] = run_steps(slice);
  });
  std::vector<Tensor> result;
  for (size_t k = 0; k < out[0].size(); ++k) {
    std::vector<Tensor> pieces;
    for (auto& o : out) pieces.push_back(std::move(o[k]));
    result.push_back(batch_concat(pieces));
  }
  return result;
}

std::vector<Tensor> Model::run_steps(const std::vector<Tensor>& inputs) {
  std::vector<Tensor> vals(nslots_);
  std::vector<const Tensor*> ptr = constants_;
  for (size_t k = 0; k < inputs.size(); ++k) ptr[static_cast<size_t>(input_slots_[k])] = &inputs[k];
  const Isa isa = active_isa();
  // QFORGE_RT_PROFILE=1: time per op type, printed to stderr after the run; =nodes: per node as well.
  static const char* profile_env = std::getenv("QFORGE_RT_PROFILE");
  static const bool profile = profile_env != nullptr;
  static const bool profile_nodes = profile && std::string(profile_env) == "nodes";
  std::map<std::string, double> op_ms;
  Inputs in;
  Outputs out;
  for (size_t i = 0; i < steps_.size(); ++i) {
    Step& s = steps_[i];
    const Node& n = g_.nodes[i];
    in.assign(s.in.size(), nullptr);
    for (size_t k = 0; k < s.in.size(); ++k)
      if (s.in[k] >= 0) {
        in[k] = ptr[static_cast<size_t>(s.in[k])];
        if (!in[k]) fail(g_.source + ": " + n.label() + ": input '" + n.inputs[k] + "' has no value");
      }
    out.assign(s.out.size(), Tensor());
    const auto t0 = profile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    try {
      s.op->run(in, out, isa);
    } catch (const Error& e) {
      const std::string msg = e.what();
      fail(g_.source + ": " + (msg.find(n.label()) == std::string::npos ? n.label() + ": " : "") + msg);
    }
    if (profile) {
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      op_ms[n.op] += ms;
      if (profile_nodes) std::fprintf(stderr, "qforge_rt profile: node %-40s %8.3f ms\n", n.label().c_str(), ms);
    }
    for (size_t k = 0; k < s.out.size(); ++k)
      if (s.out[k] >= 0) {
        vals[static_cast<size_t>(s.out[k])] = std::move(out[k]);
        ptr[static_cast<size_t>(s.out[k])] = &vals[static_cast<size_t>(s.out[k])];
      }
    for (int r : s.release) {
      vals[static_cast<size_t>(r)] = Tensor();
      ptr[static_cast<size_t>(r)] = nullptr;
    }
  }
  if (profile)
    for (const auto& kv : op_ms) std::fprintf(stderr, "qforge_rt profile: %-20s %8.3f ms\n", kv.first.c_str(), kv.second);
  std::vector<Tensor> result;
  for (size_t k = 0; k < output_slots_.size(); ++k) {
    const size_t s = static_cast<size_t>(output_slots_[k]);
    const Tensor* t = ptr[s];
    if (!t) fail(g_.source + ": an output has no value");
    // A value this run made is moved out (a 150 MB output was copied in 20% of the run's time); a graph
    // input or constant, or a value listed again further on, is copied.
    const bool again = std::find(output_slots_.begin() + static_cast<std::ptrdiff_t>(k) + 1, output_slots_.end(), output_slots_[k]) !=
                       output_slots_.end();
    if (t == &vals[s] && !again)
      result.push_back(std::move(vals[s]));
    else
      result.push_back(*t);  // (one ?: of the two would be a const prvalue: a copy either way)
  }
  return result;
}

}  // namespace qfrt
