// Which kernel family runs: picked once from the CPU's features, overridable with the environment
// variable QFORGE_RT_ISA=scalar|avx2|avx512vnni (tests use it to compare paths). Asking for an ISA
// the CPU lacks is an error, not a silent downgrade.
#pragma once

namespace qfrt {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512Vnni = 2 };

const char* isa_name(Isa isa);
bool cpu_supports(Isa isa);
// The best supported ISA, or QFORGE_RT_ISA when set; throws qfrt::Error on an unknown or unsupported name.
Isa active_isa();
// Tests: force a path for this process (must be supported).
void set_active_isa(Isa isa);

}  // namespace qfrt
