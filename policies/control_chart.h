// What the cusum and ewma policies share: the metric watched, its direction, and the
// ladder they ride on (see policies/cusum.cpp and policies/ewma.cpp).
#pragma once

#include <memory>
#include <string>

#include "policies/checks.h"
#include "policies/ladder.h"

namespace canarysim {

struct ChartSpec {
  LadderSpec ladder;
  Metric metric;
  int sign = 1;  // +1: alarm on increases (errors, latency); -1: on decreases (quality)
  double min_samples = 50;
  // Parses metric, direction, min_samples and the ladder; `own` are the chart's keys.
  static ChartSpec parse(const ConfigMap& m, std::vector<std::string> own);
};

}  // namespace canarysim
