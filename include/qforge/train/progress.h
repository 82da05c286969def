// Progress on stderr: a bar redrawn in place on a terminal, plain lines every `log_every`
// steps otherwise (logs, CI). stdout stays free for results.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace qforge::train {

class Progress {
 public:
  Progress(std::string label, int64_t total_steps, int64_t log_every, bool quiet = false);
  // `stats` is free text such as "loss 0.41 acc 85.1%"; `items` counts images so far.
  void update(int64_t step, int64_t items, const std::string& stats);
  void finish(const std::string& stats);  // final line of this bar
  double elapsed_s() const;

 private:
  std::string line(int64_t step, int64_t items, const std::string& stats) const;
  std::string label_;
  int64_t total_, log_every_;
  bool quiet_, tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

std::string format_duration(double seconds);  // "1:05" or "1:02:03"

}  // namespace qforge::train
