#include "core/cpu.h"

#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "core/env.h"
#include "core/error.h"

namespace qfrt {

namespace {
std::atomic<int> g_isa{-1};
std::atomic<bool> g_amx_off{false};  // set_amx_active(false)

Isa detect() {
  if (const char* e = std::getenv("QFORGE_RT_ISA"); e && *e) {
    const std::string s = e;
    Isa want;
    if (s == "scalar") want = Isa::Scalar;
    else if (s == "avx2") want = Isa::Avx2;
    else if (s == "avx512vnni" || s == "avx512") want = Isa::Avx512Vnni;
    else fail("QFORGE_RT_ISA='" + s + "' is not one of scalar, avx2, avx512vnni");
    if (!cpu_supports(want)) fail(std::string("QFORGE_RT_ISA=") + s + ": this CPU does not support it");
    return want;
  }
  if (cpu_supports(Isa::Avx512Vnni)) return Isa::Avx512Vnni;
  if (cpu_supports(Isa::Avx2)) return Isa::Avx2;
  return Isa::Scalar;
}
}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512Vnni: return "avx512vnni";
  }
  return "?";
}

bool cpu_supports(Isa isa) {
  __builtin_cpu_init();
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Avx2: return __builtin_cpu_supports("avx2");
    case Isa::Avx512Vnni:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni");
  }
  return false;
}

bool cpu_has_avx512vbmi() {
  static const bool ok = cpu_supports(Isa::Avx512Vnni) && __builtin_cpu_supports("avx512vbmi");
  return ok;
}

bool cpu_has_amx() {
  static const bool ok = [] {
    if (!cpu_supports(Isa::Avx512Vnni) || env_is_zero("QFORGE_RT_AMX")) return false;
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    const bool tile = d >> 24 & 1, int8 = d >> 25 & 1;
    if (!tile || !int8) return false;
    // Linux hands out the 8 KB tile state only on request; without it the first tile load faults.
    constexpr long kReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return ok;
}

bool amx_active(Isa isa) { return isa == Isa::Avx512Vnni && cpu_has_amx() && !g_amx_off.load(std::memory_order_relaxed); }

void set_amx_active(bool on) {
  if (on && !cpu_has_amx()) fail("AMX is not available on this CPU (or QFORGE_RT_AMX=0)");
  g_amx_off.store(!on);
}

Isa active_isa() {
  int v = g_isa.load();
  if (v < 0) {
    v = static_cast<int>(detect());
    g_isa.store(v);
  }
  return static_cast<Isa>(v);
}

void set_active_isa(Isa isa) {
  if (!cpu_supports(isa)) fail(std::string("ISA ") + isa_name(isa) + " is not supported by this CPU");
  g_isa.store(static_cast<int>(isa));
}

}  // namespace qfrt
