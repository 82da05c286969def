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
// AMX int8 tiles (Sapphire Rapids and later): CPUID's amx-tile and amx-int8, and the kernel granted this
// process the tile data state (arch_prctl ARCH_REQ_XCOMP_PERM, asked once here). QFORGE_RT_AMX=0 says no.
// When it holds, int8 layers keep a second copy of their weights in the tile layout (gemm_amx.h).
bool cpu_has_amx();
// Whether avx512vnni-path GEMMs run on the AMX tiles now: cpu_has_amx() unless a test turned it off.
bool amx_active(Isa isa);
// Tests: run the VNNI kernels instead (false) or the tiles again (true; needs cpu_has_amx()).
void set_amx_active(bool on);
// The best supported ISA, or QFORGE_RT_ISA when set; throws qfrt::Error on an unknown or unsupported name.
Isa active_isa();
// Tests: force a path for this process (must be supported).
void set_active_isa(Isa isa);

}  // namespace qfrt
