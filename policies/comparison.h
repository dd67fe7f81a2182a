// Per-tick evidence that the canary is worse than the baseline, for the sequential tests
// and control charts. Each reads one batch of delivered data (the last interval).
#pragma once

#include <optional>

#include "policies/checks.h"
#include "sim/model/telemetry.h"

namespace canarysim {

// Events in a batch, for a count test: X of the n events fell on the canary, each with
// probability p0 under "no difference".
struct Batch {
  double x = 0, n = 0, p0 = 0;
};

// Rate metrics: errors (or hallucinations, unsafe answers) that fell on the canary among
// all such events, with p0 the canary's share of the trials. nullopt without data, or
// for a metric that is not a rate (quantiles: exceedance_batch).
std::optional<Batch> batch_of(const Metric& metric, const WindowStats& canary, const WindowStats& baseline);

// Two-sample evidence on a latency quantile that stays valid at any sample size: with a
// threshold t fixed before the batch (the baseline's q-quantile in an earlier batch),
// the canary's requests above (1 + tolerance) t and the baseline's at or above t. If the
// canary's latency is at most (1 + tolerance) times the baseline's in distribution, each
// such request is the canary's with probability at most p0 = the canary's share of the
// batch's requests (exactly so without replacement, which only narrows the spread; see
// sequential.cpp). Bucket edges are rounded against the canary. nullopt without data.
std::optional<Batch> exceedance_batch(const Metric& metric, const WindowStats& canary, const WindowStats& baseline,
                                      double threshold, double tolerance);

// The baseline's q-quantile of a quantile metric, for the next batch's threshold;
// nullopt without baseline data.
std::optional<double> baseline_quantile(const Metric& metric, const WindowStats& baseline);

// A standardized difference, canary minus baseline times `factor` (1 + tolerance, or
// 1 - tolerance for a metric whose harm is a decrease), for control charts: rates by the
// pooled two-proportion z, means by Welch's z, quantiles by the exceedance z (canary
// requests above `factor` times the baseline's quantile).
std::optional<double> z_of(const Metric& metric, const WindowStats& canary, const WindowStats& baseline,
                           double min_samples, double factor = 1);

}  // namespace canarysim
