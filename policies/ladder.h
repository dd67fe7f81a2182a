// A ladder of canary weights with a bake time per step: the ramp that gate policies
// (sequential, burn_rate, cusum, ewma, drift) put their judgement on top of.
//
//   steps: [1, 5, 10, 25, 50, 100]   # weights in percent, increasing (default)
//   bake_time: 10m                   # time at each weight (default 10m)
//   interval: 1m                     # analysis interval (default 1m)
//   rollback_drain: 30s              # canary weight falls to 0 over this (default 0)
// Leaving the last step below 100, or reaching a step of 100, promotes.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "sim/io/schema.h"
#include "policies/policy.h"

namespace canarysim {

struct LadderSpec {
  std::vector<double> steps{0.01, 0.05, 0.10, 0.25, 0.50, 1.0};  // fractions
  double bake_time_s = 600;
  double interval_s = 60;
  double rollback_drain_s = 0;

  // The ladder's keys, for ConfigMap::allow alongside the policy's own.
  static const std::vector<std::string>& keys();
  // A policy's schema table: `own` fields, then the ladder's (sim/io/schema.h).
  static std::vector<SchemaField> with_ladder(std::vector<SchemaField> own);
  static LadderSpec parse(const ConfigMap& m);
  // The largest weight served before promotion: reaching 100 promotes at once.
  double max_weight() const { return served_max(steps); }
  static double served_max(const std::vector<double>& steps) {
    double w = 0;
    for (double s : steps)
      if (s < 1) w = std::max(w, s);
    return w > 0 ? w : 1;
  }
};

// Per-run position on the ladder.
class Ladder {
 public:
  explicit Ladder(const LadderSpec& spec) : spec_(spec) {}
  double initial_weight() const { return spec_.steps[0]; }
  // Advances when the current step has baked: set_weight, promote, or hold.
  Decision advance(double now, const std::string& why_not_yet = "baking");
  Decision rollback(std::string reason) const {
    return Decision::rollback(std::move(reason), spec_.rollback_drain_s);
  }

 private:
  const LadderSpec& spec_;
  size_t step_ = 0;
  double started_ = 0;
};

}  // namespace canarysim
