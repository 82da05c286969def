// qforge-rt-peak: one JSON line with this core's clock and the bare-loop rates of vpdpbusd, AMX tdpbsud and
// xnor + vpopcntq (tools/cpu_peak.h), on one thread. bench/runtime_peers.sh records it every round, so
// each round's timings can be read against the machine's speed at that moment.
#include <cstdio>
#include <cstring>

#include "cpu_peak.h"

int main(int argc, char** argv) {
  if (argc > 1) {
    std::fprintf(stderr, "%s\nusage: qforge-rt-peak   (no arguments; prints {\"ghz\", \"vnni_gmacs\", \"amx_gmacs\", \"xnor_gmacs\"})\n",
                 std::strcmp(argv[1], "--help") == 0 ? "" : "qforge-rt-peak: takes no arguments");
    return std::strcmp(argv[1], "--help") == 0 ? 0 : 2;
  }
  qfrt_bench::print_cpu_peak_json(qfrt_bench::measure_cpu_peak());
  return 0;
}
