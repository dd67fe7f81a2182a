// Capacity: what each batched pool carries of a scenario's token mix against what it is
// offered at peak, and the sizing of pools written `replicas: auto` or `fleet: auto`.
//
// A replica's ceiling comes from its iteration profile and the mean token mix (see
// replica_capacity in sim/model/serving.h). The peak is the highest sustained rate over
// the horizon: the diurnal curve or schedule sampled densely, or a trace's busiest
// minute; bursts are named on top of it, not folded in. The baseline is offered all of
// it (before the canary takes any); the canary the largest share its policy serves
// (PolicyConfig::max_weight, shadow traffic included), or all of it without a policy.
// An estimate, not a promise: queueing makes latency climb before 100 %, and a pool
// above 100 % has a queue that grows without bound at peak.
#pragma once

#include <string>
#include <vector>

#include "sim/model/scenario.h"

namespace canarysim {

struct PoolLoad {
  Version version = Version::kBaseline;
  uint32_t replicas = 0;      // serving that share (an autoscaled pool: as it would size)
  double per_replica = 0;     // requests/s one replica carries of this mix
  double share = 1;           // of the traffic, at its largest
  double peak_rate = 0;       // requests/s of all traffic at peak
  double offered() const { return share * peak_rate; }
  double capacity() const { return replicas * per_replica; }
  double utilization() const { return offered() / capacity(); }
};

// The highest sustained arrival rate within the horizon, requests/s.
double peak_rate(const TrafficSpec& traffic, double horizon_s);
// Mean prefill, context and output tokens per request of `version` (after its prefix
// cache and output scale).
struct TokenMix {
  double prefill = 0, context = 0, output = 0;
};
TokenMix token_mix(const TrafficSpec& traffic, const VersionSpec& version);

// One entry per batched pool. `policy` may be null (the canary is then offered all).
std::vector<PoolLoad> pool_loads(const Scenario& scenario, const PolicyConfig* policy);
// Per pool, for validate, run and timeline: a line ("baseline: 60 replicas carry about
// 1,050 requests/s of this mix; peak offered 1,500/s (143 %)"), and a warning when the
// pool is above 100 % (it cannot carry the peak) or above 85 % (queueing grows steeply).
struct CapacityNote {
  std::string line;
  std::string warning;  // "" when the pool carries its peak with room
};
std::vector<CapacityNote> capacity_notes(const Scenario& scenario, const PolicyConfig* policy);
// The warnings alone.
std::vector<std::string> capacity_warnings(const Scenario& scenario, const PolicyConfig* policy);

// Sizes the pools written `auto` for all traffic at peak at their target_utilization.
void size_auto_pools(Scenario& scenario);

}  // namespace canarysim
