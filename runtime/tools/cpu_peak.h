// What this core delivers right now, for the benches' efficiency columns: its clock, and the MACs per
// second of bare loops of the instructions the kernels are built on (no memory traffic beyond L1, no
// requantization), so a kernel's rate can be read as a fraction of what the machine gives at that moment.
// On the shared VMs this runs on, the AMX rate swings by 2x or more from minute to minute (another tenant
// on the core's sibling, or the host's power state), so a fixed "peak" from a data sheet misleads both ways.
#pragma once

namespace qfrt_bench {

struct CpuPeak {
  double ghz = 0;          // core clock: a chain of dependent imuls (3 cycles each)
  double vnni_gmacs = 0;   // 16 independent vpdpbusd zmm chains: u8 x s8 MACs / s
  double amx_gmacs = 0;    // tdpbusd on 4 accumulator tiles, random operands; 0 without AMX
  double xnor_gmacs = 0;   // binary MACs / s of vpternlogq + vpopcntq + vpaddq over 512 bits; 0 without VPOPCNTDQ
};

// About 0.1 s on one thread (the caller's). Each rate is the best of a few short rounds.
CpuPeak measure_cpu_peak();

// One line of JSON with the fields above.
void print_cpu_peak_json(const CpuPeak& p);

}  // namespace qfrt_bench
