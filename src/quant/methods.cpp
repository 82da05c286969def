// The list of built-in quantization methods (each in its own method_*.cpp).
#include "methods.h"

namespace qforge::quant {

void register_builtin_methods() {
  for (auto make : {make_uniform_method, make_lsq_method, make_lsq_plus_method, make_bwn_method, make_xnor_method,
                    make_twn_method, make_pow2_method, make_sawb_method, make_dorefa_method, make_pact_method, make_qil_method,
                    make_hwgq_method, make_lqnet_method, make_proxquant_method})
    register_method(make());
}

}  // namespace qforge::quant
