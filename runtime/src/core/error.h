// The runtime's one exception type. Every message names what failed (file, node, op) so the C API
// can hand it to the caller through qf_last_error().
#pragma once
#include <stdexcept>
#include <string>

namespace qfrt {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void fail(const std::string& msg) { throw Error(msg); }

}  // namespace qfrt
