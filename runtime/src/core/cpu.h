// Which kernel family runs: picked once from the CPU's features, overridable with the environment
// variable QFORGE_RT_ISA=scalar|avx2|avx512vnni (tests use it to compare paths). Asking for an ISA
// the CPU lacks is an error, not a silent downgrade.
#pragma once

namespace qfrt {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512Vnni = 2 };

const char* isa_name(Isa isa);
bool cpu_supports(Isa isa);
// AVX-512 VBMI (byte permutes: vpermb, vpermt2b) on top of avx512vnni: Ice Lake, Zen 4. Kernels that use
// it run only on the avx512vnni path and keep a VBMI-free form beside them.
bool cpu_has_avx512vbmi();
// The best supported ISA, or QFORGE_RT_ISA when set; throws qfrt::Error on an unknown or unsupported name.
Isa active_isa();
// Tests: force a path for this process (must be supported).
void set_active_isa(Isa isa);

}  // namespace qfrt
