#include "qforge/train/progress.h"

#include <unistd.h>

#include <cstdio>

namespace qforge::train {

std::string format_duration(double seconds) {
  int64_t s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60), (long long)(s % 60));
  else std::snprintf(buf, sizeof buf, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
  return buf;
}

Progress::Progress(std::string label, int64_t total_steps, int64_t log_every, bool quiet)
    : label_(std::move(label)), total_(total_steps), log_every_(log_every), quiet_(quiet), tty_(isatty(2) != 0),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

double Progress::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string Progress::line(int64_t step, int64_t items, const std::string& stats) const {
  double t = elapsed_s();
  double rate = t > 0 ? items / t : 0;
  double eta = step > 0 ? t * static_cast<double>(total_ - step) / static_cast<double>(step) : 0;
  const int width = 20;
  int filled = total_ > 0 ? static_cast<int>(width * step / total_) : width;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(width, '.');
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s [%s] %lld/%lld %s %.0f img/s ETA %s", label_.c_str(), bar.c_str(),
                (long long)step, (long long)total_, stats.c_str(), rate, format_duration(eta).c_str());
  return buf;
}

void Progress::update(int64_t step, int64_t items, const std::string& stats) {
  if (quiet_) return;
  auto now = std::chrono::steady_clock::now();
  if (tty_) {
    if (now - last_draw_ < std::chrono::milliseconds(200) && step != total_) return;
    std::fprintf(stderr, "\r\033[K%s", line(step, items, stats).c_str());
  } else {
    if (log_every_ <= 0 || step % log_every_ != 0) return;
    std::fprintf(stderr, "%s\n", line(step, items, stats).c_str());
  }
  last_draw_ = now;
  std::fflush(stderr);
}

void Progress::finish(const std::string& stats) {
  if (quiet_) return;
  std::fprintf(stderr, "%s%s %s (%s)\n", tty_ ? "\r\033[K" : "", label_.c_str(), stats.c_str(),
               format_duration(elapsed_s()).c_str());
  std::fflush(stderr);
}

}  // namespace qforge::train
