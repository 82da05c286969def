// The FakeQuant graph op: FakeQuant(x, <method params...>, initialized) -> x_q.
// Its attributes record the quantizer configuration so a graph is self-describing.
#pragma once
#include <functional>

#include "qforge/ir/graph.h"
#include "qforge/quant/method.h"

namespace qforge::quant {

constexpr const char* kFakeQuantOp = "FakeQuant";

void config_to_attrs(const QuantizerConfig& c, Role r, ir::Attributes& a);
QuantizerConfig config_from_node(const ir::Node& n);
Role role_of(const ir::Node& n);

// Calibration: while a CalibrationScope lives on this thread, every FakeQuant node passes its
// input through unchanged (the float network runs) and hands it to the observer first. Post-
// training quantization collects activation statistics this way without rewriting the graph.
using CalibrationObserver = std::function<void(const ir::Node&, const at::Tensor&)>;
class CalibrationScope {
 public:
  // quantize = true: the nodes quantize as usual and hand the observer their output instead (what
  // the quantized network computes there; AdaRound's inputs from the quantized layers before).
  explicit CalibrationScope(CalibrationObserver observer, bool quantize = false);
  ~CalibrationScope();
  CalibrationScope(const CalibrationScope&) = delete;
  CalibrationScope& operator=(const CalibrationScope&) = delete;

 private:
  CalibrationObserver previous_;
  bool previous_quantize_;
};

// Registers the built-in methods and the FakeQuant op kernel with the executor. Idempotent;
// call before building a GraphModule from a graph that may hold FakeQuant nodes.
void register_quantization();

}  // namespace qforge::quant
