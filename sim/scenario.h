// A scenario: the traffic, the two versions, the regressions injected into the canary,
// the monitoring, and the policy under study. The YAML keys are the field names below;
// this header is the scenario reference (docs/scenarios.md has a worked example).
//
//   name: default
//   horizon: 4h                    # simulated time limit of one run
//   traffic: {rate: 200/s, users: 50000}
//   baseline:
//     ttft: {median: 400ms, p99: 1.5s}        # lognormal from median and p99, or fixed: 400ms
//     output_tokens: {median: 150, p99: 900}  # lognormal, rounded up to whole tokens
//     inter_token: {median: 30ms, p99: 60ms}  # each request's mean time per further token
//     error_rate: 0.1%
//   canary: {}                     # only what differs from the baseline
//   regressions:
//     - {kind: latency, onset: 0s, ttft_multiplier: 1.25}
//   telemetry: {window: 10s, scrape_delay: 30s}
//   policy: ../policies/presets/stepped.yaml  # a file (relative to this one) or a mapping
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "policies/policy.h"
#include "sim/telemetry.h"

namespace canarysim {

class ConfigMap;

// A positive quantity drawn once per request: fixed (sigma 0), or lognormal with the
// given median and p99. Drawn from a standard normal z so that a request keeps its
// percentile whichever version serves it (common random numbers).
struct Distribution {
  double median = 1;
  double sigma = 0;  // of log(value); = ln(p99 / median) / 2.3263

  double at(double z) const { return sigma == 0 ? median : median * std::exp(sigma * z); }
  double p99() const;
  static Distribution fixed(double v) { return {v, 0}; }
  static Distribution from_median_p99(double median, double p99);
};

struct VersionSpec {
  Distribution ttft = Distribution::from_median_p99(0.4, 1.5);        // seconds
  Distribution output_tokens = Distribution::from_median_p99(150, 900);  // tokens
  Distribution inter_token = Distribution::from_median_p99(0.03, 0.06);  // seconds per token
  double error_rate = 0.001;  // probability that a request fails
};

// A fault in the canary, active from `onset_s` to the end of the run.
struct Regression {
  enum class Kind { kLatency, kErrors };
  std::string name;
  Kind kind = Kind::kLatency;
  double onset_s = 0;          // seconds after the rollout starts
  double ttft_multiplier = 1;  // kLatency: time to first token times this
  double itl_multiplier = 1;   // kLatency: inter-token latency times this
  // kErrors, one of: the canary's error probability while active (the highest applies
  // when several overlap), or a probability added to the canary's own.
  double error_rate = -1;      // < 0: not set
  double added_error_rate = 0;
};

struct TrafficSpec {
  double rate_per_s = 100;  // Poisson arrival rate of requests
  uint64_t users = 50000;   // population; each request comes from a user drawn uniformly
};

struct Scenario {
  std::string name;
  std::string description;
  std::string file;         // where it was loaded from ("" when built in code)
  double horizon_s = 4 * 3600;
  TrafficSpec traffic;
  VersionSpec baseline;
  VersionSpec canary;
  std::vector<Regression> regressions;
  TelemetryOptions telemetry;
  std::shared_ptr<const PolicyConfig> policy;  // null when the scenario names none
  std::string source;       // the scenario's text

  // Earliest onset of any regression, or +inf when there is none.
  double first_onset_s() const;
};

// Throws InputError naming file, line, key and what was expected.
Scenario load_scenario(const std::string& path);
Scenario parse_scenario(const ConfigMap& map);

// Checks a scenario file, or a policy file (one with a top-level `kind`), and describes
// it in one line. Throws InputError as the loaders do.
std::string validate_file(const std::string& path);

}  // namespace canarysim
