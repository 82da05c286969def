// Factories of the built-in quantization methods, one method_*.cpp each; methods.cpp registers them.
#pragma once
#include <memory>

#include "qforge/quant/method.h"

#include "methods_binary.h"
#include "methods_learned.h"
#include "methods_uniform.h"
