// kind: cusum -- a one-sided CUSUM control chart on the canary-against-baseline
// difference, for gradual drift.
//
//   kind: cusum
//   metric: quality_mean      # a rate, a latency quantile, or quality_mean
//   direction: decrease       # the harmful direction (default: increase; quality: decrease)
//   k: 0.5                    # reference value, standard deviations (default 0.5)
//   h: 5                      # decision interval (default 5; 8 for rates)
//   shift: 2                  # rates: the rate multiple to detect (default 2)
//   min_samples: 50           # per version per interval, else the tick is skipped
//   tolerance: 0%             # a relative difference that is no harm (baseline x 1.1)
//   steps, bake_time, interval, rollback_drain   # the ladder (policies/ladder.h)
//
// Latency quantiles and quality: each interval gives a standardized difference z
// (policies/comparison.h), signed so that harm is positive; S = max(0, S + z - k), and
// S > h rolls back. With k = 0.5 and h = 5 the chart detects a one-sigma shift in about
// ten intervals and raises a false alarm about once in 930 intervals of no shift.
// Rates (errors are rare, and one error in a small canary is a large z): Page's CUSUM on
// the interval's log-likelihood ratio of a `shift`-fold canary rate against equal rates,
// conditional on the interval's events (as the sequential policy's test), with h in
// log-likelihood units.
#include <algorithm>
#include <cmath>
#include <optional>
#include <cstdio>

#include "policies/comparison.h"
#include "policies/control_chart.h"
#include "policies/registry.h"
#include "sim/io/config.h"
#include "sim/io/schema.h"

namespace canarysim {
namespace {

struct CusumConfig final : PolicyConfig {
  ChartSpec chart;
  double k = 0.5, h = 5, shift = 2;
  std::string kind() const override { return "cusum"; }
  double interval_s() const override { return chart.ladder.interval_s; }
  double max_lookback_s() const override { return chart.ladder.interval_s; }
  double max_weight() const override { return chart.ladder.max_weight(); }
  std::string weighs_counts() const override { return "per-interval log-likelihood ratios of counts"; }
  std::unique_ptr<Policy> make() const override;
  std::vector<SampleNeed> sample_needs() const override { return {chart.sample_need()}; }
};

class Cusum final : public Policy {
 public:
  explicit Cusum(const CusumConfig& c) : c_(c), ladder_(c.chart.ladder) {}
  double initial_weight() const override { return ladder_.initial_weight(); }
  Decision decide(const Observation& obs) override {
    const double t = c_.chart.ladder.interval_s;
    const WindowStats canary = obs.canary(t), baseline = obs.baseline(t);
    std::optional<double> step;
    if (c_.chart.metric.is_rate()) {
      if (const auto b = batch_of(c_.chart.metric, canary, baseline)) {
        // Under "no harm" the canary's rate is at most (1 + tolerance) times the baseline's.
        const double tau = c_.chart.baseline_factor();
        const double p0 = tau * b->p0 / (tau * b->p0 + 1 - b->p0), p1 = c_.shift * p0 / (c_.shift * p0 + 1 - p0);
        step = b->x * std::log(p1 / p0) + (b->n - b->x) * std::log((1 - p1) / (1 - p0));
      }
    } else if (const auto z = z_of(c_.chart.metric, canary, baseline, c_.chart.min_samples, c_.chart.baseline_factor())) {
      step = c_.chart.sign * *z - c_.k;
    }
    if (step) {
      s_ = std::max(0.0, s_ + *step);
      if (s_ > c_.h) {
        char buf[128];
        std::snprintf(buf, sizeof buf, "CUSUM of %s at %.2f > h = %.2f", c_.chart.metric.name.c_str(), s_, c_.h);
        return ladder_.rollback(buf);
      }
    }
    return ladder_.advance(obs.now());
  }

 private:
  const CusumConfig& c_;
  Ladder ladder_;
  double s_ = 0;
};

std::unique_ptr<Policy> CusumConfig::make() const { return std::make_unique<Cusum>(*this); }

}  // namespace

using namespace schema;
const Section kCusum{"policy", "kind: cusum", "A one-sided CUSUM chart of the canary against the baseline (Page, 1954): small persistent shifts add up.", ChartSpec::chart_fields({
    {"k", kNumber, "0.5", "[0, 100]", "allowance per interval, in standard deviations"},
    {"h", kNumber, "5 (rates: 8)", "[0, 1000]", "decision limit: the sum above it rolls back"},
    {"shift", kNumber, "2", "(1, 1000]", "the multiplier to detect, for rates"},
})};

std::unique_ptr<PolicyConfig> parse_cusum(const ConfigMap& m) {
  auto c = std::make_unique<CusumConfig>();
  c->chart = ChartSpec::parse(m, kCusum);
  c->k = m.number("k", c->k, 0, 100);
  c->h = m.number("h", c->chart.metric.is_rate() ? 8.0 : c->h, 0, 1000);
  c->shift = m.number("shift", c->shift, 1.000001, 1000);
  if (c->chart.metric.is_rate() && c->chart.sign < 0) m.fail("direction", "increase for a rate");
  return c;
}

}  // namespace canarysim
