// What the cusum and ewma policies share: the metric watched, its direction, and the
// ladder they ride on (see policies/cusum.cpp and policies/ewma.cpp).
#pragma once

#include <memory>
#include <string>

#include "policies/checks.h"
#include "sim/io/schema.h"
#include "policies/ladder.h"
#include "policies/policy.h"

namespace canarysim {

struct ChartSpec {
  LadderSpec ladder;
  Metric metric;
  int sign = 1;  // +1: alarm on increases (errors, latency); -1: on decreases (quality)
  double min_samples = 50;
  // A relative difference that is no harm (`tolerance: 10%`): the canary is compared with
  // the baseline times 1 + tolerance (direction increase) or 1 - tolerance (decrease).
  double tolerance = 0;
  // The factor applied to the baseline's value: 1 + sign x tolerance.
  double baseline_factor() const { return 1 + sign * tolerance; }
  // An interval with fewer than min_samples canary requests is skipped: what a judgement
  // needs (policies/policy.h), at the ladder's first weight.
  SampleNeed sample_need() const;
  // Parses metric, direction, min_samples, tolerance and the ladder.
  // `section`: the kind's table, its own fields then chart_fields().
  static ChartSpec parse(const ConfigMap& m, const Section& section);
  // The fields every control chart has (with the ladder's), after the kind's `own`.
  static std::vector<SchemaField> chart_fields(std::vector<SchemaField> own);
};

}  // namespace canarysim
