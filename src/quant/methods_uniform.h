// Factories of the uniform-grid methods (uniform, lsq, lsq_plus).
#pragma once
#include <memory>

#include "qforge/quant/method.h"

namespace qforge::quant {

std::shared_ptr<QuantMethod> make_uniform_method();
std::shared_ptr<QuantMethod> make_lsq_method();
std::shared_ptr<QuantMethod> make_lsq_plus_method();

}  // namespace qforge::quant
