// `qforge` subcommands. Each registers its options on the app and returns the code to run.
// Results: a human table on stdout, or with --json one JSON object on the last stdout line.
// Progress and logs go to stderr.
#pragma once
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>

namespace qforge::cli {

using Command = std::function<int()>;

Command add_train(CLI::App& app);
Command add_eval(CLI::App& app);
Command add_inspect(CLI::App& app);
Command add_bench(CLI::App& app);
Command add_bench_fake_quant(CLI::App& bench);  // a subcommand of `bench`
Command add_export(CLI::App& app);
Command add_infer(CLI::App& app);
Command add_ptq(CLI::App& app);
Command add_run(CLI::App& app);

}  // namespace qforge::cli
