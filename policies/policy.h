// The policy plug-in point: an observation in, a decision out.
//
// A policy file (YAML) names its `kind`; the registry maps each kind to a parser that
// validates the file once and returns a PolicyConfig. For every simulated run the runner
// asks that config for a fresh Policy (policies keep per-run state: current step, failed
// checks) and calls decide() at every analysis tick, `interval_s()` apart, starting one
// interval after the rollout begins.
//
// Adding a policy: one file in policies/ with a class derived from Policy, a config
// derived from PolicyConfig and a parser; plus one line in policies/registry.cpp.
// No engine or runner file changes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sim/model/telemetry.h"

namespace canarysim {

class ConfigMap;

struct Decision {
  enum class Action { kHold, kSetWeight, kPromote, kRollback };
  Action action = Action::kHold;
  double weight = 0;   // kSetWeight: the new canary weight, in [0, 1]
  double drain_s = 0;  // kRollback: seconds over which the canary weight falls to 0
  std::string reason;  // for people: what the policy saw and why it chose this
  // Any action: the share of baseline traffic copied to the canary as shadow traffic
  // (answers discarded: seen by monitoring and billed, never by users); < 0: unchanged.
  double mirror = -1;
  // Any action: from now on the canary may serve only these traffic segments (a rollout
  // plan's region waves); empty: unchanged. {"*"}: every segment again.
  std::vector<std::string> segments;
  // Any action: the canary's batched pool is sized from now on, whatever the weight, for
  // this share of the fleet (Argo's setCanaryScale: a pre-scaled canary; the replicas
  // start after the autoscale lag); 0: sized by the weight again; < 0: unchanged.
  double canary_scale = -1;

  Decision with_segments(std::vector<std::string> s) && {
    segments = std::move(s);
    return std::move(*this);
  }
  Decision with_mirror(double share) && {
    mirror = share;
    return std::move(*this);
  }
  Decision with_canary_scale(double share) && {
    canary_scale = share;
    return std::move(*this);
  }

  static Decision hold(std::string reason = {}) { return {Action::kHold, 0, 0, std::move(reason), -1, {}, -1}; }
  static Decision set_weight(double w, std::string reason) {
    return {Action::kSetWeight, w, 0, std::move(reason), -1, {}, -1};
  }
  static Decision promote(std::string reason) { return {Action::kPromote, 1, 0, std::move(reason), -1, {}, -1}; }
  static Decision rollback(std::string reason, double drain_s) {
    return {Action::kRollback, 0, drain_s, std::move(reason), -1, {}, -1};
  }
};

const char* action_name(Decision::Action a);

// What a policy sees at an analysis tick: the time, the weight in force and the
// telemetry that the monitoring system has delivered by now (see sim/model/telemetry.h).
class Observation {
 public:
  Observation(double now, double weight, const Telemetry& telemetry)
      : now_(now), weight_(weight), telemetry_(telemetry) {}
  double now() const { return now_; }        // seconds since the rollout started
  double weight() const { return weight_; }  // canary share of traffic, [0, 1]
  // Metrics of the last `lookback_s` seconds of delivered data.
  // REQUIRES: lookback_s <= the config's max_lookback_s().
  WindowStats canary(double lookback_s) const {
    return telemetry_.read(Version::kCanary, now_, lookback_s);
  }
  WindowStats baseline(double lookback_s) const {
    return telemetry_.read(Version::kBaseline, now_, lookback_s);
  }
  // The same observation with another weight: what a child policy of a composite sees.
  Observation with_weight(double weight) const { return Observation(now_, weight, telemetry_); }

 private:
  double now_, weight_;
  const Telemetry& telemetry_;
};

class Policy {
 public:
  virtual ~Policy() = default;
  // The canary weight when the rollout starts, in [0, 1].
  virtual double initial_weight() const = 0;
  // The share of baseline traffic shadowed to the canary when the rollout starts.
  virtual double initial_mirror() const { return 0; }
  // The segments the canary may serve when the rollout starts (empty: the scenario's).
  virtual std::vector<std::string> initial_segments() const { return {}; }
  // Called at every analysis tick until it promotes or rolls back.
  virtual Decision decide(const Observation& observation) = 0;
};

// What one judgement of a policy rests on, for the warnings of `validate` and `import`
// when it is too little (sample_warnings() in sim/model/scenario.h): `requests` canary
// requests in `window_s` of data at canary share `weight` (its first), or `points` data
// points per series where its test needs `needs_points`.
struct SampleNeed {
  std::string field, what;  // where the policy sets it ("checks[1]"), and what it judges
  std::string why;          // why it needs that many ("a p99 needs 100"), for people
  double window_s = 0, weight = 0, requests = 0;
  double points = -1, needs_points = 0;  // points < 0: not a test on series of points
};

// How the rollout moves replicas, any policy kind (`deployment:` in the policy file):
//   deployment:
//     stable_scale: static   # static (default): the stable fleet stays whole until promotion,
//                            # so a rollback is a switch. dynamic (Argo's dynamicStableScale;
//                            # a big bang replacing in place): the stable fleet shrinks as the
//                            # canary grows, and a rollback must start its replicas again
//                            # (the baseline's startup) before traffic can move back.
//     canary_scale: weight   # weight (default): the canary fleet follows its share; full: a
//                            # whole fleet from the start (blue-green's standby fleet).
//     prescale: false        # true: before each weight increase, start the canary replicas
//                            # the new weight needs and shift traffic once they are ready
//                            # (Flagger; Argo's setCanaryScale before setWeight).
// Fleets that follow a share are autoscaled batched pools, fixed batched pools under
// stable_scale: dynamic, and sampled versions given `replicas`.
struct Deployment {
  bool dynamic_stable = false;
  bool full_canary = false;
  bool prescale = false;
  static Deployment parse(const ConfigMap& policy);  // reads `deployment`, if there
};

// A validated policy file. Immutable and shared by all threads of a study.
class PolicyConfig {
 public:
  virtual ~PolicyConfig() = default;
  virtual std::string kind() const = 0;
  // Seconds between analysis ticks.
  virtual double interval_s() const = 0;
  // The longest telemetry range decide() reads, seconds.
  virtual double max_lookback_s() const = 0;
  virtual std::unique_ptr<Policy> make() const = 0;
  // Traffic segments the policy names, checked against the scenario's when both meet.
  virtual std::vector<std::string> segments_used() const { return {}; }
  // The largest canary share of user traffic the rollout serves before it promotes, for
  // capacity checks; 1 when the policy cannot say less.
  virtual double max_weight() const { return 1; }
  // What its judgements need (see SampleNeed); none by default.
  virtual std::vector<SampleNeed> sample_needs() const { return {}; }
  // What in it weighs evidence by the number of requests (a likelihood ratio, a z-score:
  // a statistic whose strength grows with the counts), for people; "" when nothing does.
  // Scaled fidelity refuses such a policy: counts scaled back from a 1-in-w sample carry
  // 1/w of the information they claim (sim/model/fidelity.h).
  virtual std::string weighs_counts() const { return {}; }
  // The policy file's text, for manifests and reports.
  std::string source;
  Deployment deployment;
};

using PolicyParser = std::unique_ptr<PolicyConfig> (*)(const ConfigMap& file);

// Parses a policy mapping (a file's top level, or a scenario's `policy:` section) by its
// `kind`. Throws InputError for an unknown kind (naming the known ones) or a bad field.
std::shared_ptr<const PolicyConfig> parse_policy(const ConfigMap& map);
std::shared_ptr<const PolicyConfig> load_policy_file(const std::string& path);
// The registered kinds, sorted.
std::vector<std::string> policy_kinds();

}  // namespace canarysim
