// One simulated rollout: traffic arrives, the router splits it by the canary weight,
// each version serves it, telemetry collects it, and the policy decides at its ticks.
// Ends at promotion, at the end of a rollback's drain, or at the scenario's horizon.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "sim/model/scenario.h"

namespace canarysim {

enum class Outcome : uint8_t { kPromoted, kRolledBack, kUnfinished };
const char* outcome_name(Outcome o);

// The outcome of one run. Times are seconds since the rollout started; NaN where a
// quantity does not apply to the run (for example detection time of a promoted run).
struct RunResult {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

  uint64_t run = 0;  // index within the study
  Outcome outcome = Outcome::kUnfinished;
  // A regression had started by the final decision (by the horizon, if unfinished).
  bool regression_active = false;
  double decision_time_s = kNaN;     // time of the promote or rollback decision
  double detection_time_s = kNaN;    // rollback decision minus the regression's onset
  // Rolled back with a regression active, but before the first data that could show it
  // (onset + telemetry window + scrape delay): not a detection (detection_time_s NaN).
  bool before_evidence = false;
  double time_to_mitigate_s = kNaN;  // until no user traffic reaches the bad canary
  // User-facing requests the canary served while a regression was active, and the
  // distinct users who sent them. After a promotion with a canary-specific regression in
  // the scenario, counting goes on until the scenario's incident_detection delay (or the
  // horizon): a missed regression keeps hurting after the rollout ends.
  uint64_t blast_radius_requests = 0;
  uint64_t blast_radius_users = 0;
  double rollout_duration_s = kNaN;  // until promoted, or until a rollback has drained
  uint64_t requests = 0;             // all requests that arrived
  uint64_t failed_requests = 0;      // of which users got an error (either version):
  uint64_t baseline_failed_requests = 0, canary_failed_requests = 0;  // by version
  // Of the failed: server timeouts, rejections at a full queue, users who gave up waiting.
  uint64_t timed_out_requests = 0, rejected_requests = 0, abandoned_requests = 0;
  uint64_t preemptions = 0;          // decoding sequences preempted for KV-cache memory
  uint64_t canary_requests = 0;      // of which the canary served
  uint64_t events = 0;               // events the engine processed
  std::string reason;                // the policy's reason for its final decision
  // Infrastructure: replica-seconds of the batched pools, tokens (prompt and output)
  // served, and their cost at the versions' prices, over the run.
  double baseline_replica_seconds = 0, canary_replica_seconds = 0;
  uint64_t baseline_tokens = 0, canary_tokens = 0;
  double baseline_cost = 0, canary_cost = 0;
  double gpu_hours = 0;  // replica-hours of the batched pools times their GPUs per replica
  // Blast radius by traffic segment, in the order of traffic.segments.
  std::vector<uint64_t> segment_blast_requests, segment_blast_users;
};

// The failure and fleet counts of a run by name, in the order outputs list them (JSON,
// CSV, the results store, Python), so that every output carries all of them.
struct RunCount {
  const char* name;
  uint64_t RunResult::*field;
};
inline constexpr RunCount kRunCounts[] = {
    {"baseline_failed_requests", &RunResult::baseline_failed_requests},
    {"canary_failed_requests", &RunResult::canary_failed_requests},
    {"timed_out_requests", &RunResult::timed_out_requests},
    {"rejected_requests", &RunResult::rejected_requests},
    {"abandoned_requests", &RunResult::abandoned_requests},
    {"preemptions", &RunResult::preemptions}};

// What monitoring showed for one version over the policy's interval before a tick
// (NaN where there was no data).
struct SliSnapshot {
  uint64_t requests = 0;
  double error_rate = RunResult::kNaN;
  double ttft_p50_s = RunResult::kNaN, ttft_p99_s = RunResult::kNaN;
  double itl_p50_s = RunResult::kNaN, latency_p99_s = RunResult::kNaN;
  double quality_mean = RunResult::kNaN;
  uint32_t replicas = 0;  // batched pools: replicas running now
  uint64_t queued = 0;    // batched pools: requests waiting now
};

// One point of a run's timeline: the initial weight, every analysis tick, and the end
// of a rollback's drain.
struct TracePoint {
  double time_s;
  double weight;       // after the decision
  std::string action;  // set_weight (initial), hold, set_weight, promote, rollback, drained
  std::string reason;
  SliSnapshot canary, baseline;
};

// Runs studies of one scenario and policy. Holds the memory a run needs (event queue,
// telemetry ring, user bitmap) so that consecutive runs on one thread reuse it.
// Thread safety: one Simulator per thread; the Scenario and PolicyConfig are shared
// read-only and must outlive it.
class Simulator {
 public:
  Simulator(const Scenario& scenario, const PolicyConfig& policy);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Run `run` of the study with `seed`. Depends only on (scenario, policy, seed, run).
  // When `trace` is given, every decision is appended to it.
  RunResult run(uint64_t seed, uint64_t run, std::vector<TracePoint>* trace = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace canarysim
