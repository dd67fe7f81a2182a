// A fixture that drives any policy with synthetic telemetry: minutes of traffic with
// chosen error counts and latencies, then a decision at a chosen time.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "policies/policy.h"
#include "sim/io/config.h"
#include "sim/model/telemetry.h"

namespace canarysim {

class PolicyTest : public ::testing::Test {
 protected:
  void Load(const std::string& yaml) {
    config_ = parse_policy(ConfigMap::parse_string(yaml, "<test>"));
    policy_ = config_->make();
    weight_ = policy_->initial_weight();
    // No scrape delay: what is recorded in a minute is read at its end.
    telemetry_ = std::make_unique<Telemetry>(TelemetryOptions{10, 0}, config_->max_lookback_s(), 600);
  }
  static Completion Served(double ttft, bool error, double quality = 0.8) {
    Completion c;
    c.error = error;
    c.ttft = ttft;
    c.itl = 0.03;
    c.latency = ttft;
    c.graded = true;
    c.quality = quality;
    return c;
  }
  // During the `seconds` before `t`: `baseline` baseline requests with TTFT 1 s and no
  // errors, and `canary` canary requests with TTFT `canary_ttft`, `errors` of which fail.
  void Traffic(double t, double seconds, int canary, double canary_ttft = 1.0, int errors = 0,
               int baseline = 100, int baseline_errors = 0, double canary_quality = 0.8) {
    for (int i = 0; i < baseline; ++i) {
      const double at = t - seconds + seconds * i / baseline;
      telemetry_->record(Version::kBaseline, at, at + 0.001,
                         Served(1.0, i < baseline_errors, 0.8 + 0.05 * ((i % 5) - 2)));
    }
    for (int i = 0; i < canary; ++i) {
      const double at = t - seconds + seconds * i / canary;
      telemetry_->record(Version::kCanary, at, at + 0.001,
                         Served(canary_ttft, i < errors, canary_quality + 0.05 * ((i % 5) - 2)));
    }
  }
  void Minute(double t, int canary = 100, double canary_ttft = 1.0, int errors = 0) {
    Traffic(t, 60, canary, canary_ttft, errors);
  }
  Decision DecideAt(double t) {
    Decision d = policy_->decide(Observation(t, weight_, *telemetry_));
    if (d.action == Decision::Action::kSetWeight || d.action == Decision::Action::kPromote) weight_ = d.weight;
    return d;
  }

  std::shared_ptr<const PolicyConfig> config_;
  std::unique_ptr<Policy> policy_;
  std::unique_ptr<Telemetry> telemetry_;
  double weight_ = 0;
};

using Action = Decision::Action;

}  // namespace canarysim
