// qforge: compress neural networks and deploy them. Thin: parse, call a pipeline, print.
#include <malloc.h>

#include <cstdio>
#include <exception>
#include <map>

#include "commands.h"
#include "qforge/quant/fake_quant_node.h"

// Training and inference free and reallocate the same large activation buffers every step. glibc's
// defaults hand blocks above its mmap threshold back to the kernel on free and trim the heap top, so
// every step page-faults its buffers in again: on the project's VM that made a ResNet-20 training step
// 2-3x slower. Keep freed memory in the process instead (peak RSS is what the run needs anyway).
static void keep_freed_memory() {
  mallopt(M_MMAP_MAX, 0);                // large blocks come from the heap too, and are reused
  mallopt(M_TRIM_THRESHOLD, INT32_MAX);  // never give the heap top back
}

int main(int argc, char** argv) {
  keep_freed_memory();
  CLI::App app{"qforge: train, compress and deploy neural networks.\n"
               "Every command prints progress on stderr; --json prints its result as one JSON object on the last stdout line."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "qforge 0.1.0");
  std::map<CLI::App*, qforge::cli::Command> commands;
  auto add = [&](qforge::cli::Command (*f)(CLI::App&)) {
    size_t before = app.get_subcommands({}).size();
    qforge::cli::Command c = f(app);
    commands[app.get_subcommands({}).at(before)] = c;
  };
  add(qforge::cli::add_train);
  add(qforge::cli::add_eval);
  add(qforge::cli::add_inspect);
  add(qforge::cli::add_export);
  add(qforge::cli::add_infer);
  add(qforge::cli::add_ptq);
  add(qforge::cli::add_run);
  add(qforge::cli::add_bench);
  CLI11_PARSE(app, argc, argv);
  qforge::quant::register_quantization();  // so quantized checkpoints load everywhere
  try {
    for (auto& [sub, run] : commands)
      if (sub->parsed()) return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qforge: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
