// A scenario: the traffic, the two versions, the regressions injected into the canary,
// the monitoring, and the policy under study. The YAML keys are listed below and in the
// headers named; a version's keys are not all its field names (VersionSpec says which).
//
//   name: default
//   horizon: 4h                    # simulated time limit of one run
//   traffic: {rate: 200/s, users: 50000, ...}           # sim/model/traffic.h
//   routing: {first: [internal]}                         # sim/model/router.h
//   baseline:                                            # VersionSpec below
//     ttft: {median: 400ms, p99: 1.5s}                   # or batching: ... (sim/model/serving.h)
//     inter_token: {median: 30ms, p99: 60ms}
//     error_rate: 0.1%
//   canary: {}                     # only what differs from the baseline
//   topology: [...]                # sim/model/topology.h
//   regressions: [...]             # sim/model/regression.h
//   telemetry: {window: 10s, scrape_delay: 30s, eval_sample: 2%,
//               golden: {every: 15m, size: 200}}   # periodic golden-set evaluations
//   policy: ../policies/presets/stepped.yaml  # a file (relative to this one) or a mapping
//   fidelity: {mode: scaled, replicas: 40}    # exact (default), or a scaled-down fleet: sim/model/fidelity.h
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "policies/policy.h"
#include "sim/model/fidelity.h"
#include "sim/model/regression.h"
#include "sim/model/router.h"
#include "sim/model/serving.h"
#include "sim/model/telemetry.h"
#include "sim/model/topology.h"
#include "sim/model/traffic.h"

namespace canarysim {

class ConfigMap;

// A version's keys (baseline, and canary for what differs):
//   ttft, inter_token               sampled latency (sim/model/serving.h), or
//   batching: {...}                 a batched pool (sim/model/serving.h)
//   output_scale: 1.2               output tokens relative to the request's
//   error_rate: 0.1%, hallucination_rate: 2%, unsafe_rate: 1%
//   quality: {mean: 0.8, sd: 0.1}   graded quality score
//   cost: {replica_hour: 98.32, million_tokens: 0.5}
//   timeout: 5m, patience: {median: 20s, p99: 2m}, max_queue: 20000 (batched)
//   prefix_cache: 40%, startup: 5m, replicas: 48 (sampled: a costed fleet)
struct VersionSpec {
  ServingSpec serving;           // ttft and inter_token, or batching
  double output_scale = 1;       // output tokens relative to the request's (verbosity)
  double error_rate = 0.001;     // probability that the model fails a request
  double quality_mean = 0.8;     // quality score of graded responses, normal, clipped to [0, 1]
  double quality_sd = 0.1;
  double hallucination_rate = 0.02;  // of successful responses
  double unsafe_rate = 0.01;         // of answers to adversarial prompts
  double replica_hour_cost = 0;      // cost of a batched replica-hour
  double million_token_cost = 0;     // cost of a million tokens, prompt and output
  // Overload, as clients and servers bound it (0 / unset: unbounded). A request not
  // finished `timeout` after arrival fails then (server deadline; sampled versions too);
  // a user whose request waits longer than their `patience` for its first token gives up
  // (a distribution, drawn per request); `max_queue` (batched: in `batching`) rejects
  // arrivals that find that many waiting.
  double timeout_s = 0;
  bool has_patience = false;
  Distribution patience;
  // Share of each prompt served from the prefix cache (batched: not prefilled), unless the
  // trace gives each request's cached tokens.
  double prefix_cache_share = 0;
  // Deployment: a new replica serves `startup` after it starts (weight load, warm-up;
  // batched pools and redeploys alike). A sampled version may give `replicas`, the fleet
  // that carries all traffic: it is costed (cost.replica_hour) and scaled like a pool,
  // without a latency effect. 0: no fleet accounted.
  double startup_s = 0;
  uint32_t replicas = 0;
};

struct Scenario {
  std::string name;
  std::string description;
  std::string file;  // where it was loaded from ("" when built in code)
  double horizon_s = 4 * 3600;
  // After a promotion with a bad canary, the time until the on-call notices and mitigates:
  // blast radius keeps counting that long (capped at the horizon). <0: until the horizon.
  double incident_detection_s = -1;
  TrafficSpec traffic;
  RoutingSpec routing;
  VersionSpec baseline;
  VersionSpec canary;
  Topology topology;
  std::vector<Regression> regressions;
  TelemetryOptions telemetry;
  std::shared_ptr<const PolicyConfig> policy;  // null when the scenario names none
  // Exact, or scaled (the Simulator runs shrink(): sim/model/fidelity.h).
  Fidelity fidelity;
  std::string source;                          // the scenario's text
  // What the reader accepted but doubts (a trace's time unit that makes it implausible):
  // validate, run and timeline print each as a warning.
  std::vector<std::string> warnings;
};

// Throws InputError naming file, line, key and what was expected.
Scenario load_scenario(const std::string& path);
Scenario parse_scenario(const ConfigMap& map);
// The keys of a scenario's top level.
const std::vector<std::string>& scenario_keys();

// Throws InputError when the policy names a traffic segment the scenario does not have.
void check_policy_segments(const Scenario& scenario, const PolicyConfig& policy);

// Where a policy's judgements rest on fewer data than their tests need (see SampleNeed):
// series of too few points, whatever the traffic; and, with a scenario, windows that at
// the policy's first canary share and the scenario's rate at the start hold fewer canary
// requests than a check's min_samples or its quantile needs. One message each, naming
// the field and the expected count.
std::vector<std::string> sample_warnings(const PolicyConfig& policy, const Scenario* scenario);

// What a study of `scenario` under `policy` says before it runs, one line each (no file,
// no "warning:"): the scenario's own warnings (a trace's inferred time unit ...), pools
// that cannot carry their peak (capacity_warnings()), and sample_warnings(). The CLI
// prints them on stderr, Python raises them as ScenarioWarning; validate lists them.
std::vector<std::string> study_warnings(const Scenario& scenario, const PolicyConfig& policy);

// study_warnings() of many variants of a scenario (a sweep's points, a tuning's candidates,
// a power study's sizes), grouped by what a warning is about (its text before the first
// ':', "checks[0] (error-rate)"): one line a group, "12 of 64 points (the first:
// bake_time=2m): <that variant's warning>". `noun` names the variants ("points").
struct ScenarioVariant {
  std::string label;
  const Scenario* scenario;  // with its policy
};
std::vector<std::string> grouped_warnings(const std::vector<ScenarioVariant>& variants, const std::string& noun);

// Checks a scenario file, or a policy file (one with a top-level `kind`), and describes
// it in one line, followed by a "warning: ..." line for each of its sample_warnings().
// Throws InputError as the loaders do.
std::string validate_file(const std::string& path);

}  // namespace canarysim
