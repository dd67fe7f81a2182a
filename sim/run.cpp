#include "sim/run.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "sim/engine.h"
#include "sim/random.h"
#include "sim/router.h"

namespace canarysim {

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kPromoted: return "promoted";
    case Outcome::kRolledBack: return "rolled_back";
    case Outcome::kUnfinished: return "unfinished";
  }
  return "?";
}

namespace {

enum EventType : uint32_t { kArrival, kTick, kOnset, kDrained };

// Longest request the telemetry ring keeps exact timing for (see Telemetry).
constexpr double kMaxLatencyS = 600;

// A version's serving parameters in force at the current time.
struct Serving {
  Distribution ttft, output_tokens, inter_token;
  double error_rate;
};

Serving serving_of(const VersionSpec& v) {
  return {v.ttft, v.output_tokens, v.inter_token, v.error_rate};
}

}  // namespace

struct Simulator::Impl {
  Impl(const Scenario& s, const PolicyConfig& p)
      : scenario(s),
        policy_config(p),
        telemetry(s.telemetry, p.max_lookback_s(), kMaxLatencyS),
        users_hit((s.traffic.users + 63) / 64) {}

  const Scenario& scenario;
  const PolicyConfig& policy_config;
  Engine engine;
  Telemetry telemetry;
  std::vector<uint64_t> users_hit;  // bitmap: users served by the canary while regressed

  // Per-run state, reset by run().
  std::unique_ptr<Policy> policy;
  Rng arrivals{0, 0, Stream::kArrivals}, draws{0, 0, Stream::kRequests};
  Router router;
  Serving baseline{}, canary{};
  double drain_s = 0;
  bool regressed = false;                                // a regression is active now
  RunResult result;
  std::vector<TracePoint>* trace = nullptr;

  RunResult run(uint64_t seed, uint64_t run_index);
  void on_arrival();
  void on_tick();
  void on_onset(uint32_t regression);
  void finish(Outcome outcome);
};

Simulator::Simulator(const Scenario& s, const PolicyConfig& p)
    : impl_(std::make_unique<Impl>(s, p)) {}
Simulator::~Simulator() = default;

RunResult Simulator::run(uint64_t seed, uint64_t run, std::vector<TracePoint>* trace) {
  impl_->trace = trace;
  return impl_->run(seed, run);
}

RunResult Simulator::Impl::run(uint64_t seed, uint64_t run_index) {
  engine.reset();
  telemetry.reset();
  std::fill(users_hit.begin(), users_hit.end(), 0);
  arrivals = Rng(seed, run_index, Stream::kArrivals);
  draws = Rng(seed, run_index, Stream::kRequests);
  baseline = serving_of(scenario.baseline);
  canary = serving_of(scenario.canary);
  policy = policy_config.make();
  router.reset(Rng(seed, run_index, Stream::kUsers).next(), policy->initial_weight());
  drain_s = 0;
  regressed = false;
  result = RunResult{};
  result.run = run_index;
  if (trace) trace->push_back({0, router.weight(), "set_weight", "initial weight"});

  // Onsets first, so that a regression at time 0 is in force for the first request.
  for (uint32_t i = 0; i < scenario.regressions.size(); ++i)
    engine.schedule_at(scenario.regressions[i].onset_s, kOnset, i);
  engine.schedule(arrivals.exponential(scenario.traffic.rate_per_s), kArrival);
  engine.schedule(policy_config.interval_s(), kTick);

  engine.run(scenario.horizon_s, [this](const Event& e) {
    switch (e.type) {
      case kArrival: on_arrival(); break;
      case kTick: on_tick(); break;
      case kOnset: on_onset(e.target); break;
      case kDrained: finish(Outcome::kRolledBack); break;
    }
  });

  if (result.outcome == Outcome::kUnfinished) {
    if (!std::isnan(result.decision_time_s)) {
      finish(Outcome::kRolledBack);  // the horizon cut a rollback's drain short
    } else {
      result.regression_active = scenario.first_onset_s() < scenario.horizon_s;
    }
  }
  result.events = engine.processed();
  for (uint64_t word : users_hit) result.blast_radius_users += std::popcount(word);
  return result;
}

void Simulator::Impl::on_arrival() {
  const double now = engine.now();
  // Every request makes the same draws in the same order whichever version serves it,
  // so routing changes never shift the random streams (common random numbers).
  const uint64_t user = draws.below(scenario.traffic.users);
  const double z_ttft = draws.normal(), z_tokens = draws.normal(), z_itl = draws.normal();
  const double u_error = draws.uniform();

  const bool to_canary = router.to_canary(user, now);
  const Serving& v = to_canary ? canary : baseline;
  const double ttft = v.ttft.at(z_ttft);
  const double tokens = std::max(1.0, std::ceil(v.output_tokens.at(z_tokens)));
  const double itl = v.inter_token.at(z_itl);
  const double latency = ttft + (tokens - 1) * itl;
  const bool error = u_error < v.error_rate;
  telemetry.record(to_canary ? Version::kCanary : Version::kBaseline, now, now + latency, error,
                   ttft, itl, latency);

  ++result.requests;
  if (to_canary) {
    ++result.canary_requests;
    if (regressed) {
      ++result.blast_radius_requests;
      users_hit[user >> 6] |= uint64_t{1} << (user & 63);
    }
  }
  engine.schedule(arrivals.exponential(scenario.traffic.rate_per_s), kArrival);
}

void Simulator::Impl::on_tick() {
  const double now = engine.now();
  const Decision d = policy->decide(Observation(now, router.weight(), telemetry));
  if (d.action == Decision::Action::kSetWeight) router.set_weight(std::clamp(d.weight, 0.0, 1.0));
  if (d.action == Decision::Action::kPromote) router.set_weight(1);
  if (trace) trace->push_back({now, router.weight(), action_name(d.action), d.reason});

  if (d.action == Decision::Action::kPromote) {
    result.reason = d.reason;
    finish(Outcome::kPromoted);
  } else if (d.action == Decision::Action::kRollback) {
    result.reason = d.reason;
    result.decision_time_s = now;
    result.regression_active = regressed;
    router.drain(now, d.drain_s);
    drain_s = d.drain_s;
    if (d.drain_s > 0) engine.schedule(d.drain_s, kDrained);
    else finish(Outcome::kRolledBack);
  } else {
    engine.schedule(policy_config.interval_s(), kTick);
  }
}

void Simulator::Impl::on_onset(uint32_t index) {
  const Regression& r = scenario.regressions[index];
  switch (r.kind) {
    case Regression::Kind::kLatency:
      canary.ttft.median *= r.ttft_multiplier;
      canary.inter_token.median *= r.itl_multiplier;
      break;
    case Regression::Kind::kErrors:
      canary.error_rate = std::min(1.0, std::max(canary.error_rate, r.error_rate) + r.added_error_rate);
      break;
  }
  regressed = true;
}

void Simulator::Impl::finish(Outcome outcome) {
  const double now = engine.now();
  result.outcome = outcome;
  if (outcome == Outcome::kPromoted) {
    result.decision_time_s = now;
    result.regression_active = regressed;
  }
  result.rollout_duration_s = now;
  if (outcome == Outcome::kRolledBack && result.regression_active) {
    const double onset = scenario.first_onset_s();
    result.detection_time_s = result.decision_time_s - onset;
    result.time_to_mitigate_s = now - onset;
  }
  if (trace && outcome == Outcome::kRolledBack && drain_s > 0)
    trace->push_back({now, 0, "drained", "canary weight reached 0"});
  engine.stop();
}

}  // namespace canarysim
