// Limits on work and memory, checked before a study starts (docs/input-contract.md).
//
// Field ranges stop values no study needs (a window of 1e-300 s, a horizon of a century);
// this estimate stops combinations of sensible values that no machine can finish (a
// policy interval of 1 us over a 4 h horizon, a trace that plays a million requests a
// second). A run's work is counted in events: arrivals, replica iterations (an upper
// bound), analysis ticks weighted by the telemetry windows each reads, and golden-set
// evaluations. Above the budget the study is refused, naming the inputs that drive the
// cost and how to raise the budget; never silently shortened.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace canarysim {

struct Scenario;
class PolicyConfig;

struct WorkEstimate {
  double events = 0;           // per run, event-equivalents
  double memory_bytes = 0;     // per simulator (one per thread): telemetry ring, user bitmap
  // The inputs behind `events`, largest first: ("traffic.rate 200/s over horizon 4h", 2.9e6).
  std::vector<std::pair<std::string, double>> drivers;
};

WorkEstimate estimate_work(const Scenario& scenario, const PolicyConfig& policy);

struct WorkLimits {
  double max_events_per_run = 2e8;  // about 2 minutes of one core
  double max_memory_bytes = 0;      // 0: three quarters of the machine's memory
};
// The process-wide limits (the CLI's --max-events-per-run sets them).
WorkLimits& work_limits();

// Throws InputError when one run is over the event budget, or when `runs` results and
// `threads` simulators do not fit in memory.
void check_work(const Scenario& scenario, const PolicyConfig& policy, uint64_t runs, unsigned threads);

// Worker threads for `requested` (0: one per core), at most four per core: more only
// adds memory and contention. `note` (when given) says so when a request was clamped.
unsigned clamp_threads(unsigned requested, std::string* note = nullptr);

[[noreturn]] void throw_thread_error(unsigned wanted, const std::string& why);

// Starts `count` threads running `work`. When the system refuses one, calls `stop` (which
// must make the running ones return), joins them and throws InputError: never an abort.
template <class Work, class Stop>
void start_threads(std::vector<std::thread>& pool, unsigned count, Work& work, Stop stop) {
  try {
    for (unsigned t = 0; t < count; ++t) pool.emplace_back(work);
  } catch (const std::system_error& e) {
    stop();
    for (std::thread& t : pool) t.join();
    pool.clear();
    throw_thread_error(count, e.what());
  }
}

}  // namespace canarysim
