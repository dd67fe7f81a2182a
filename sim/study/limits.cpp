#include "sim/study/limits.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <thread>

#include "policies/policy.h"
#include "sim/io/config.h"
#include "sim/model/run.h"
#include "sim/model/scenario.h"

namespace canarysim {

namespace {

std::string g(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", x);
  return buf;
}

// Requests per second at most, and the inputs that set it.
std::pair<double, std::string> peak_rate(const TrafficSpec& t) {
  if (t.trace) {
    return {t.rate_per_s, "traffic.trace " + t.trace->file + " (" + std::to_string(t.trace->arrival_s.size()) +
                              " rows over " + format_duration(t.trace->duration_s() * t.trace_time_scale) + ")"};
  }
  std::string what = t.schedule.empty() ? "traffic.rate " + g(t.rate_per_s) + "/s"
                                        : "traffic.schedule (peak " + g(t.max_rate()) + "/s)";
  if (t.diurnal_amplitude > 0) what += " with traffic.diurnal";
  if (t.burst_every_s > 0) what += " and traffic.bursts.factor " + g(t.burst_factor);
  return {t.max_rate(), what};
}

// Iterations of a batched version's pool, an upper bound: each iteration emits a token
// for at least one sequence or prefills one, and no replica runs faster than b0.
double iterations(const VersionSpec& v, double arrivals, const TrafficSpec& t, double horizon_s) {
  if (!v.serving.batched) return 0;
  const BatchingSpec& b = v.serving.batching;
  const double replicas = b.autoscaled ? b.autoscale.max : b.replicas;
  const double by_time = replicas * horizon_s / std::max(b.b0_s, 1e-6);
  const double by_tokens = arrivals * (t.output_tokens.mean() * v.output_scale + 1);
  return std::min(by_time, by_tokens);
}

double physical_memory() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<double>(pages) * static_cast<double>(page) : 8e9;
}

std::string bytes(double b) {
  if (b >= 1e9) return g(b / 1e9) + " GB";
  return g(b / 1e6) + " MB";
}

}  // namespace

WorkEstimate estimate_work(const Scenario& full, const PolicyConfig& p) {
  const Scenario s = shrink(full, p);  // what is simulated: the scaled-down copy under scaled fidelity
  WorkEstimate w;
  const std::string over = " over horizon " + format_duration(s.horizon_s);
  const auto [rate, rate_source] = peak_rate(s.traffic);
  double arrivals = rate * s.horizon_s;
  if (s.traffic.trace && !s.traffic.trace_loop)
    arrivals = std::min(arrivals, static_cast<double>(s.traffic.trace->arrival_s.size()));
  w.drivers.emplace_back(rate_source + over + ": arrivals", arrivals);
  const double it = iterations(s.baseline, arrivals, s.traffic, s.horizon_s) +
                    iterations(s.canary, arrivals, s.traffic, s.horizon_s);
  if (it > 0) w.drivers.emplace_back("batching (replicas, iteration.base, output_tokens)" + over + ": iterations", it);
  // A tick reads every telemetry window in the policy's lookback, for both versions; a
  // window's read costs about as much as twenty events (three histograms merged).
  const double windows = std::ceil(p.max_lookback_s() / s.telemetry.window_s) + 1;
  const double ticks = s.horizon_s / p.interval_s();
  w.drivers.emplace_back("policy interval " + format_duration(p.interval_s()) + " (reading " + g(windows) +
                             " telemetry windows of " + format_duration(s.telemetry.window_s) + ")" + over +
                             ": analysis ticks",
                         ticks * (1 + 40 * windows));
  if (s.telemetry.golden_every_s > 0) {
    w.drivers.emplace_back("telemetry.golden (every " + format_duration(s.telemetry.golden_every_s) + ", size " +
                               std::to_string(s.telemetry.golden_size) + ")" + over + ": evaluations",
                           2 * s.horizon_s / s.telemetry.golden_every_s * s.telemetry.golden_size);
  }
  std::sort(w.drivers.begin(), w.drivers.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  for (const auto& d : w.drivers) w.events += d.second;
  if (!std::isfinite(w.events)) w.events = HUGE_VAL;
  w.memory_bytes = Telemetry::ring_bytes(s.telemetry, p.max_lookback_s(), kMaxRecordedLatencyS) +
                   static_cast<double>(s.traffic.users) / 8;
  return w;
}

WorkLimits& work_limits() {
  static WorkLimits limits;
  return limits;
}

void check_work(const Scenario& s, const PolicyConfig& p, uint64_t runs, unsigned threads) {
  const WorkEstimate w = estimate_work(s, p);
  const WorkLimits& limits = work_limits();
  const std::string file = s.file.empty() ? "<scenario>" : s.file;
  if (!(w.events <= limits.max_events_per_run)) {
    std::string why;
    for (const auto& [what, events] : w.drivers)
      if (events >= 0.1 * w.events) why += (why.empty() ? "" : "; ") + what + " " + g(events);
    // A batched fleet studied exactly can be studied scaled down (sim/model/fidelity.h).
    const bool batched = s.baseline.serving.batched || s.canary.serving.batched;
    const std::string scaled = batched && !s.fidelity.scaled
                                   ? ", or simulate a scaled-down fleet (--fidelity scaled, or fidelity: scaled in the "
                                     "scenario; its error against exact runs: results/fidelity-modes.md)"
                                   : "";
    throw InputError(file + ": one run is estimated at " + g(w.events) + " events, above the budget of " +
                     g(limits.max_events_per_run) + " per run (" + why +
                     "); shorten the horizon or lower what drives the cost" + scaled +
                     ", or raise the budget with --max-events-per-run (Python: canarysim.set_max_events_per_run)");
  }
  const double memory = limits.max_memory_bytes > 0 ? limits.max_memory_bytes : 0.75 * physical_memory();
  // A run's result is a few hundred bytes, plus two counters per traffic segment.
  const double results = static_cast<double>(runs) *
                         (sizeof(RunResult) + 64 + 16.0 * static_cast<double>(s.traffic.segments.size()));
  const double simulators = std::max(1u, threads) * w.memory_bytes;
  if (!(results + simulators <= memory)) {
    throw InputError(file + ": the study needs about " + bytes(results + simulators) + " of memory (" +
                     std::to_string(runs) + " runs' results " + bytes(results) + ", " +
                     std::to_string(std::max(1u, threads)) + " simulators of " + bytes(w.memory_bytes) +
                     " each: telemetry.window " + format_duration(s.telemetry.window_s) + ", scrape_delay " +
                     format_duration(s.telemetry.scrape_delay_s) + ", the policy's lookback " +
                     format_duration(p.max_lookback_s()) + "); this machine allows " + bytes(memory) +
                     ": use fewer --runs (or shards), fewer --threads, or a coarser window");
  }
}

unsigned clamp_threads(unsigned requested, std::string* note) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (requested == 0) return cores;
  const unsigned most = 4 * cores;
  if (requested <= most) return requested;
  if (note) *note = "--threads " + std::to_string(requested) + " clamped to " + std::to_string(most) +
                    " (four per core on this machine's " + std::to_string(cores) + ")";
  return most;
}

void throw_thread_error(unsigned wanted, const std::string& why) {
  throw InputError("the system refused to start " + std::to_string(wanted) + " threads (" + why +
                   "): use fewer --threads");
}

}  // namespace canarysim
