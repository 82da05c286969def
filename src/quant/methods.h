// Factories of the built-in quantization methods, one method_*.cpp each; methods.cpp registers them.
#pragma once
#include <memory>

#include "qforge/quant/method.h"

namespace qforge::quant {

}  // namespace qforge::quant
