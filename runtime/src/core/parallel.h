// parallel_for over the runtime's worker threads (std::thread; QFORGE_RT_THREADS, default: every
// core). The calling thread takes work items too and never waits for a worker that has not
// started: on a busy machine a late worker finds nothing left, so a layer never stalls for a
// descheduled thread (OpenMP's barrier did, up to a scheduler slice per layer). Nested calls and
// calls while another parallel_for runs execute inline.
#pragma once
#include <cstdint>
#include <functional>

namespace qfrt {

// fn(i) for i in [0, n); returns when all have run. Exceptions from fn reach the caller (the first).
void parallel_for(int64_t n, const std::function<void(int64_t)>& fn);

// Threads used, the caller included.
int thread_count();

}  // namespace qfrt
