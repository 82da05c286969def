// Switches read from the environment once (A/B checks and tests).
#pragma once
#include <cstdlib>
#include <cstring>

namespace qfrt {

// Whether the variable `name` is set to "0": the runtime's opt-out switches (QFORGE_RT_BLOCKED=0,
// QFORGE_RT_FUSE_Q=0). Callers keep the answer in a function-local static.
inline bool env_is_zero(const char* name) {
  const char* e = std::getenv(name);
  return e && std::strcmp(e, "0") == 0;
}

}  // namespace qfrt
