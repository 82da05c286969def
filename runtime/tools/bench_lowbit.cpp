// qforge-rt-bench-lowbit: one large conv layer on one thread, int8 (vpdpbusd) against the bit-serial
// kernel at W4A4, W2A2 and binary x 1-bit, and sign-select (binary weights x 8-bit activations). Prints per kernel the layer time (im2col, planes, GEMM,
// requantization) and the GEMM alone, as MACs per cycle of the core's clock and ("vs loop": the GEMM, or the
// layer for the blocked rows, which have no separate GEMM) as a fraction of the bare loop of the kernel's
// instruction measured at the start of the run (tools/cpu_peak.h: vpdpbusd for int8, tdpbsud for
// the AMX rows, xnor + vpopcntq for the bit kernels, whose MACs are counted as binary MACs: bits x bits each).
// The int8 rows without "AMX" run the VNNI kernels; the AMX rows appear on CPUs that have it.
//   qforge-rt-bench-lowbit [C M H W [reps]]      default 128 128 28 28 20 (3x3, pad 1)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "core/cpu.h"
#include "cpu_peak.h"
#include "kernels/bitserial.h"
#include "kernels/channel_bits.h"
#include "kernels/conv_blocked.h"
#include "kernels/gemm.h"
#include "kernels/pack_panel.h"
#include "kernels/qlayer.h"

using namespace qfrt;

namespace {
template <class F> double best_ms(int reps, F f) {
  f();
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}
}  // namespace

int main(int argc, char** argv) {
  setenv("QFORGE_RT_THREADS", "1", 1);  // per-core numbers
  setenv("QFORGE_RT_LOWBIT", "all", 1);
  const int64_t C = argc > 4 ? std::atoll(argv[1]) : 128, M = argc > 4 ? std::atoll(argv[2]) : 128;
  const int64_t H = argc > 4 ? std::atoll(argv[3]) : 28, W = argc > 4 ? std::atoll(argv[4]) : 28;
  const int reps = argc > 5 ? std::atoi(argv[5]) : 20;
  ConvGeom g;
  g.C = C, g.H = H, g.W = W, g.M = M, g.kh = g.kw = 3, g.pt = g.pl = g.pb = g.pr = 1, g.OH = H, g.OW = W;
  const int64_t K = g.K(), cols = H * W, Kp = round_up(K, 4), nb = (cols + kPanelCols - 1) / kPanelCols;
  const qfrt_bench::CpuPeak peak = qfrt_bench::measure_cpu_peak();
  const double macs = static_cast<double>(M) * K * cols, ghz = peak.ghz;
  const Isa isa = active_isa();
  std::printf("conv %lldx%lldx%lldx%lld 3x3 pad 1 -> %lld channels: %.1f MMAC, one thread, ISA %s, clock %.3f GHz (measured)\n",
              (long long)1, (long long)C, (long long)H, (long long)W, (long long)M, macs / 1e6, isa_name(isa), ghz);
  std::printf("bare loops now: vpdpbusd %.0f GMAC/s (%.0f MAC/cycle), tdpbsud %.0f GMAC/s, xnor+vpopcntq %.0f binary GMAC/s\n",
              peak.vnni_gmacs, peak.vnni_gmacs / ghz, peak.amx_gmacs, peak.xnor_gmacs);
  std::printf("%-20s %9s %8s %10s %9s %10s %9s\n", "kernel", "layer ms", "GMAC/s", "MAC/cycle", "GEMM ms", "MAC/cycle", "vs loop");
  std::mt19937 rng(1);
  struct Cfg {
    const char* name;
    int wbits, abits;
    bool binary, blocked = false;
    bool channel_bits = false;  // the channel-packed path (channel_bits.h)
    bool xnor = false;          // binary activations +-1 around zero point 1 (inputs 0 and 2), XNOR form
    bool amx = false;           // int8 on the AMX tiles (gemm_amx.h)
  };
  for (const Cfg& c : {Cfg{"int8 (vpdpbusd)", 8, 8, false}, Cfg{"int8 blocked", 8, 8, false, true},
                       Cfg{"int8 AMX", 8, 8, false, false, false, false, true}, Cfg{"int8 blocked AMX", 8, 8, false, true, false, false, true},
                       Cfg{"bitserial W4A4", 4, 4, false},
                       Cfg{"bitserial W2A2", 2, 2, false}, Cfg{"bitserial W2A1", 2, 1, false}, Cfg{"bitserial WbinA2", 1, 2, true},
                       Cfg{"bitserial WbinA1", 1, 1, true}, Cfg{"xnor WbinAbin", 1, 1, true, false, false, true},
                       Cfg{"sign-select WbinA8", 1, 8, true}, Cfg{"chbits W4A4", 4, 4, false, false, true},
                       Cfg{"chbits W2A2", 2, 2, false, false, true}, Cfg{"chbits W2A1", 2, 1, false, false, true},
                       Cfg{"chbits WbinA2", 1, 2, true, false, true}, Cfg{"chbits WbinA1", 1, 1, true, false, true},
                       Cfg{"chbits xnor WbinAbin", 1, 1, true, false, true, true}}) {
    if (c.amx && !cpu_has_amx()) continue;
    if (cpu_has_amx()) set_amx_active(c.amx);
    QWeights qw;
    qw.M = M, qw.K = K;
    const int wlo = c.binary ? -1 : -(1 << (c.wbits - 1)), whi = c.binary ? 1 : (1 << (c.wbits - 1)) - 1;
    std::uniform_int_distribution<int> wd(wlo, whi), xd(0, (1 << c.abits) - 1);
    for (int64_t i = 0; i < M * K; ++i) {
      int v = wd(rng);
      if (c.binary && v == 0) v = 1;
      qw.w.push_back(static_cast<int8_t>(v));
    }
    qw.zp.assign(static_cast<size_t>(M), 0), qw.scale.assign(static_cast<size_t>(M), 0.01);
    QInput in;
    in.scale = 0.1;
    in.zp = c.xnor ? 1 : 0;
    QOutput out;
    out.kind = Epilogue::Quantized, out.scale = 1.0, out.zp = 0;
    QLayer L = prepare_qlayer(qw, in, {}, {}, out);
    const bool ok = c.wbits == 8 || (c.xnor ? enable_xnor(L, c.binary, 0, 2)
                                     : c.abits == 8 ? enable_sign_select(L, c.binary) : enable_bitserial(L, c.wbits, c.binary, c.abits, 0));
    if (!ok) {
      std::printf("%s: could not switch\n", c.name);
      return 1;
    }
    if (c.blocked) enable_blocked_conv(L, C, 3, 3);  // the runtime's path for 3x3 stride-1 layers (conv_blocked.h)
    if (c.amx) enable_amx_gemm(L);
    if (c.channel_bits) {
      enable_channel_bits(L, C, 3, 3);
      if (!channel_bits_fits(L, g)) {
        std::printf("%s: no channel-packed path for %lld channels\n", c.name, (long long)C);
        continue;
      }
    }
    std::vector<uint8_t> x(static_cast<size_t>(C * H * W)), y(static_cast<size_t>(M * cols));
    for (auto& v : x) v = static_cast<uint8_t>(c.xnor ? 2 * (xd(rng) & 1) : xd(rng));
    const double layer = best_ms(reps, [&] { qconv_run(isa, L, g, 1, x.data(), y.data()); });
    // A time as a fraction of the bare loop of the kernel's instruction: a bit kernel does wbits x abits
    // binary MACs per MAC (sign-select, 8-bit activations, is read against vpdpbusd).
    const bool bit_kernel = c.wbits < 8 && c.abits < 8;
    const double loop_gmacs = c.amx ? peak.amx_gmacs : bit_kernel ? peak.xnor_gmacs : peak.vnni_gmacs;
    const double bin_macs = bit_kernel ? macs * c.wbits * c.abits : macs;
    auto of_loop = [&](double ms) { return bin_macs / (ms * 1e6) / loop_gmacs; };
    if (c.blocked) {  // no separate GEMM: it reads the blocked input in place
      std::printf("%-20s %9.3f %8.1f %10.1f %9s %10s %8.0f%%\n", c.name, layer, macs / layer / 1e6, macs / (layer * 1e-3) / (ghz * 1e9), "-", "-",
                  100 * of_loop(layer));
      continue;
    }
    // The GEMM alone on a panel packed once.
    std::vector<uint8_t> panel(static_cast<size_t>(panel_bytes(Kp, nb) + kAmxPanelSlack));
    pack_conv_panel(x.data(), false, g, 0, 0, 0, cols, panel.data(), nullptr);
    std::vector<int32_t> Cm(static_cast<size_t>(M * nb * kPanelCols));
    BitActs acts;
    const BitWeights& bw = c.channel_bits ? L.cbits.w : L.bits;
    if (c.channel_bits) {  // the GEMM on the planes bit_im2col builds from the packed input
      std::vector<uint64_t> cb(static_cast<size_t>(H * W * L.cbits.G * L.x_bits)), pad(static_cast<size_t>(L.cbits.G * L.x_bits), 0);
      std::vector<int32_t> pixpop(static_cast<size_t>(H * W));
      pack_channel_bits(isa, x.data(), C, H * W, false, L.bits.xnor ? L.pad_u8 : L.x_lo_u8, L.x_bits, L.bits.xnor, cb.data(), pixpop.data());
      bit_im2col(cb.data(), bw.binary ? pixpop.data() : nullptr, g, L.cbits.G, L.x_bits, L.bits.xnor, pad.data(), 0, cols, acts);
    } else if (L.bits.xnor) {
      xnor_acts_from_panel(isa, panel.data(), K, Kp, cols, L.pad_u8, acts);
    } else if (L.bits.wbits && !L.sign_select) {
      bit_acts_from_panel(isa, panel.data(), K, Kp, cols, 0, c.abits, acts);
    }
    const uint8_t lo = L.bits.xnor ? L.pad_u8 : 0;
    const double gemm = best_ms(reps, [&] {
      if (L.sign_select) sign_select_gemm(isa, L.bits, 0, M, panel.data(), K, Kp, cols, acts, Cm.data(), nb * kPanelCols);
      else if (L.bits.wbits) bitserial_gemm(isa, bw, 0, M, acts, cols, lo, Cm.data(), nb * kPanelCols);
      else if (c.amx) gemm_u8s8_amx(L.amx, 0, M, AmxSource{panel.data(), Kp * kPanelCols, 64, nullptr}, nb, Cm.data(), nb * kPanelCols);
      else gemm_u8s8(isa, GemmArgs{L.A.data(), M, Kp, panel.data(), nb, Cm.data(), nb * kPanelCols});
    });
    std::printf("%-20s %9.3f %8.1f %10.1f %9.3f %10.1f %8.0f%%\n", c.name, layer, macs / layer / 1e6, macs / (layer * 1e-3) / (ghz * 1e9), gemm,
                macs / (gemm * 1e-3) / (ghz * 1e9), 100 * of_loop(gemm));
  }
  // Again at the end: on a shared VM the loops' rates drift during the run, and the columns above assume
  // the first reading.
  const qfrt_bench::CpuPeak after = qfrt_bench::measure_cpu_peak();
  std::printf("bare loops at the end: vpdpbusd %.0f GMAC/s, tdpbsud %.0f GMAC/s, xnor+vpopcntq %.0f binary GMAC/s\n", after.vnni_gmacs,
              after.amx_gmacs, after.xnor_gmacs);
  return 0;
}
