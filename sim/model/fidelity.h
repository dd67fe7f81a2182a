// Fidelity: simulate the whole fleet (exact), or a scaled-down copy of it (scaled).
//
//   fidelity: {mode: scaled, replicas: 40, check: 20}   # or on the command line: --fidelity scaled
//
// Scaled mode is SHRiNK (Pan, Prabhakar, Psounis et al., 2003: sample the traffic, scale
// the capacity, and the queueing is preserved) applied to a canary study. With w about
// N / replicas, N the largest batched pool's replicas for all traffic (within a quarter
// of it, the w that divides the pools' sizes most evenly: 64 and 32 asked at 20 give 4):
//   traffic   one user in w is simulated (user ids r, r + w, r + 2w, ... with r drawn per
//             run): the arrival rate is divided by w and each simulated user sends what a
//             user sends at full scale, so stickiness, sessions and per-user exposure hold;
//             a trace keeps the rows of those users.
//   pools     every batched pool's replicas, autoscale fleet, min and max, queue bound
//             (max_queue) and replicas lost to a capacity_loss regression are divided by w
//             (rounded, at least 1). Each replica then sees the same arrival rate, token mix
//             and batch occupancy as at full scale: utilization, queue growth in overload
//             and the time to fill a bounded queue are preserved.
//   monitoring  every count a policy reads (requests, errors, histogram buckets, token
//             and cost sums, graded samples) is multiplied by w; golden-set evaluations
//             (a fixed prompt set) are not. Ratios and quantiles are the sample's own
//             estimates: unbiased for rates and means, with w times the variance; counts
//             are unbiased estimates of the full fleet's, so min_samples gates open at the
//             same traffic.
//   outcomes  request, user, failure and token counts, replica-hours, GPU-hours and cost of
//             the batched pools are multiplied by w (Horvitz-Thompson: each user is in the
//             sample with probability 1/w, so every total over users is unbiased); times
//             (detection, rollout duration) are not scaled.
//
// Where it does not hold, and what the tool does:
//   - tests that weigh evidence by the number of requests (likelihood ratios, z-scores,
//     Hotelling's T2: kinds sequential, cusum, ewma, drift) would see w-fold counts with
//     1/w of the information, and overstate their evidence: refused
//     (PolicyConfig::weighs_counts);
//   - judgements whose window at the first canary share would hold fewer sampled requests
//     than their quantile, their threshold or min_samples needs (SampleNeed): w is lowered
//     until none would (to 1, exact, if need be), and the warning names the judgement;
//   - small pools: a pool under 2 replicas at scale, or whose size changes by more than
//     10 % in rounding, queues differently (a shared queue in front of fewer replicas):
//     warned, with the sizes;
//   - users: a user activity skew that gives one user more than 5 % of a sample's traffic
//     makes the sampled share depend on which users were drawn: warned; fewer than 1,000
//     users in the sample: refused (blast radius in users would be a handful scaled up);
//   - sampled (unbatched) versions have no load dependence: scaled mode needs a batched
//     pool to shrink, and a sampled version's fleet (`replicas`) is costed unscaled.
// What none of these foresees, the study checks afterwards: `check` runs (20) again at 4x
// the replicas, and a warning when the figures moved (sim/study/convergence.h).
// results/fidelity-modes.md measures the error on every shipped batched scenario.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace canarysim {

class ConfigMap;
class PolicyConfig;
struct Scenario;

struct Fidelity {
  bool scaled = false;
  // The largest pool's replicas at scale (requested). 40 by default: on the production
  // scenario, 20 moved a tenth of the runs' detection a tick later (p90 blast radius +11 %),
  // 40 agrees within 1 % but for failed requests' p90 (results/fidelity-modes.md).
  uint32_t replicas = 40;
  uint32_t sample = 1;     // w: one user in `sample` simulated (1: exact); set by shrink()
  // Runs of the convergence check after a scaled study (sim/study/convergence.h): that
  // many of its runs again at 4x the replicas, figures compared; 0: no check.
  uint32_t check_runs = 20;
  // `fidelity: exact`, `fidelity: scaled`, or {mode: scaled, replicas: 40}.
  static Fidelity parse(const ConfigMap& scenario, const char* key);
  // The command line's --fidelity: exact, scaled or scaled:K. Throws InputError.
  static Fidelity from_option(const std::string& text);
  std::string describe() const;  // "exact", "scaled: 1 user in 10 (largest pool 40 replicas requested)"
};

// The scenario a scaled study simulates: traffic sampled, pools shrunk (see above), and
// its fidelity.sample set. Throws InputError where scaling cannot hold (a policy that
// weighs counts, no batched pool, too few users); `warnings` gets what it doubts.
// An exact scenario comes back unchanged.
Scenario shrink(const Scenario& scenario, const PolicyConfig& policy, std::vector<std::string>* warnings = nullptr);

}  // namespace canarysim
