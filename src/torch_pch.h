// Precompiled header for every libtorch translation unit (see CMakeLists.txt).
#pragma once
#include <torch/torch.h>
