// Per-tick evidence that the canary is worse than the baseline, for the sequential tests
// and control charts. Each reads one batch of delivered data (the last interval).
#pragma once

#include <optional>

#include "policies/checks.h"
#include "sim/model/telemetry.h"

namespace canarysim {

// Successes in a batch, for a count test: canary events X out of n trials, and the
// probability p0 an event has under "no difference" (at most, for quantile tests).
struct Batch {
  double x = 0, n = 0, p0 = 0;
};

// Rates: errors (or hallucinations, unsafe answers) that fell on the canary among all
// such events, with p0 the canary's share of the trials. Quantiles: canary requests
// above the baseline's quantile, with p0 = 1 - q. nullopt without data.
std::optional<Batch> batch_of(const Metric& metric, const WindowStats& canary, const WindowStats& baseline);

// A standardized difference, canary minus baseline, for control charts: rates by the
// pooled two-proportion z, means by Welch's z, quantiles by the exceedance z.
std::optional<double> z_of(const Metric& metric, const WindowStats& canary, const WindowStats& baseline,
                           double min_samples);

}  // namespace canarysim
