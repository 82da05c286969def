// A quantization method (LSQ, PACT, DoReFa, ...): the math of one quantizer, with its state kept as
// graph initializers so checkpoints, inspection and export see it like any other weight.
//
// Quantization is a graph pass (insert.h): it puts a FakeQuant node on each quantized edge,
//   FakeQuant(x, <method params...>, initialized) -> x_q
// whose attributes record the method, role and configuration. The FakeQuant op kernel looks the
// method up in the registry below, runs `initialize` once on the first tensor it sees (training
// mode), then `forward`, which carries the method's own gradient.
#pragma once
#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "qforge/ir/graph.h"

namespace qforge::quant {

enum class Role { Weight, Activation };
const char* role_name(Role r);

// What a user asks for in a recipe's quantize.weights / quantize.activations (validated).
struct QuantizerConfig {
  std::string method;
  int bits = 8;
  bool per_channel = false;  // weights: one scale per output channel
  bool is_signed = true;     // activations after ReLU are unsigned
  double noise = 0.0;        // NICE-style: quantize w + U(-noise/2, noise/2)*step during training
  std::map<std::string, double> options;  // method-specific, defaults filled in
};

// A tensor the quantizer owns: created at insertion, named "<node>.<suffix>".
struct ParamSpec {
  std::string suffix;
  ir::Tensor init;
  bool trainable = true;
};

// The integer grid (or codebook) deployment needs.
struct GridSpec {
  enum Kind { Uniform, Codebook, PowerOfTwo } kind = Uniform;
  int64_t qmin = 0, qmax = 0;   // uniform: integer range
  int64_t axis = -1;            // per-channel axis, -1 per tensor
  at::Tensor scale, zero_point; // uniform: y = (q - zp) * scale
  at::Tensor levels;            // codebook: the representable values (per channel rows if axis >= 0)
  // Codebook: the decision boundaries, ascending, one fewer than levels per row: x goes to
  // levels[count(thresholds < x)] (ties to the lower level). Not always the midpoints: HWGQ's first
  // boundary is 0.
  at::Tensor thresholds;
};

class QuantMethod {
 public:
  virtual ~QuantMethod() = default;
  virtual std::string name() const = 0;
  virtual bool supports(Role r) const = 0;
  virtual int min_bits() const { return 2; }
  virtual int max_bits() const { return 8; }
  // False for methods defined on non-negative inputs only (HWGQ).
  virtual bool supports_signed() const { return true; }
  // False where the grid is not evenly spaced integers times a scale (codebooks, powers of two): such a
  // quantizer cannot be the plain 8-bit first / last layer the papers keep (quantize.first_last_bits).
  virtual bool integer_grid(const QuantizerConfig&) const { return true; }
  // Method-specific options with their defaults; a recipe key not listed here is an error.
  virtual std::map<std::string, double> default_options() const { return {}; }

  virtual std::vector<ParamSpec> params(const QuantizerConfig& c, Role r, const std::vector<int64_t>& shape) const = 0;
  // Data-dependent initialization on the first tensor seen (no grad), e.g. LSQ's step 2<|x|>/sqrt(Qp).
  virtual void initialize(const at::Tensor& x, const QuantizerConfig& c, Role r, std::vector<at::Tensor>& params) const {}
  virtual at::Tensor forward(const at::Tensor& x, const QuantizerConfig& c, Role r, std::vector<at::Tensor>& params,
                             bool training) const = 0;
  virtual GridSpec grid(const QuantizerConfig& c, Role r, const std::vector<at::Tensor>& params) const;
};

// Registry by method name.
void register_method(std::shared_ptr<QuantMethod> m);
const QuantMethod& method(const std::string& name);  // throws listing the known names
std::vector<std::string> method_names();

}  // namespace qforge::quant
