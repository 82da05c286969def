// The list of built-in quantization methods (each in its own method_*.cpp).
#include "methods.h"

namespace qforge::quant {

void register_builtin_methods() {
}

}  // namespace qforge::quant
