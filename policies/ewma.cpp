// kind: ewma -- an EWMA control chart on the canary-against-baseline difference.
//
//   kind: ewma
//   metric: ttft_p90          # a rate, a latency quantile, or quality_mean
//   direction: increase
//   lambda: 0.2               # weight of the newest interval (default 0.2)
//   limit: 3                  # control limit, in the chart's asymptotic sd (default 3)
//   min_samples: 50
//   tolerance: 0%             # a relative difference that is no harm (baseline x 1.1)
//   steps, bake_time, interval, rollback_drain   # the ladder (policies/ladder.h)
//
// E = lambda z + (1 - lambda) E over the intervals' standardized differences z (signed
// so that harm is positive), from E = 0; E > limit sqrt(lambda / (2 - lambda)) rolls back.
#include <cmath>
#include <cstdio>

#include "policies/comparison.h"
#include "policies/control_chart.h"
#include "policies/registry.h"
#include "sim/io/config.h"
#include "sim/io/schema.h"

namespace canarysim {
namespace {

struct EwmaConfig final : PolicyConfig {
  ChartSpec chart;
  double lambda = 0.2, limit = 3;
  std::string kind() const override { return "ewma"; }
  double interval_s() const override { return chart.ladder.interval_s; }
  double max_lookback_s() const override { return chart.ladder.interval_s; }
  double max_weight() const override { return chart.ladder.max_weight(); }
  std::string weighs_counts() const override { return "z-scores of per-interval counts"; }
  std::unique_ptr<Policy> make() const override;
  std::vector<SampleNeed> sample_needs() const override { return {chart.sample_need()}; }
};

class Ewma final : public Policy {
 public:
  explicit Ewma(const EwmaConfig& c) : c_(c), ladder_(c.chart.ladder) {}
  double initial_weight() const override { return ladder_.initial_weight(); }
  Decision decide(const Observation& obs) override {
    const double t = c_.chart.ladder.interval_s;
    if (const auto z = z_of(c_.chart.metric, obs.canary(t), obs.baseline(t), c_.chart.min_samples,
                            c_.chart.baseline_factor())) {
      e_ = c_.lambda * c_.chart.sign * *z + (1 - c_.lambda) * e_;
      const double bound = c_.limit * std::sqrt(c_.lambda / (2 - c_.lambda));
      if (e_ > bound) {
        char buf[128];
        std::snprintf(buf, sizeof buf, "EWMA of %s at %.2f > %.2f", c_.chart.metric.name.c_str(), e_, bound);
        return ladder_.rollback(buf);
      }
    }
    return ladder_.advance(obs.now());
  }

 private:
  const EwmaConfig& c_;
  Ladder ladder_;
  double e_ = 0;
};

std::unique_ptr<Policy> EwmaConfig::make() const { return std::make_unique<Ewma>(*this); }

}  // namespace

using namespace schema;
const Section kEwma{"policy", "kind: ewma", "An EWMA chart of the canary against the baseline (Roberts, 1959).", ChartSpec::chart_fields({
    {"lambda", kNumber, "0.2", "[10^-6, 1]", "weight of the newest interval"},
    {"limit", kNumber, "3", "[0, 100]", "control limit in standard deviations of the EWMA"},
})};

std::unique_ptr<PolicyConfig> parse_ewma(const ConfigMap& m) {
  auto c = std::make_unique<EwmaConfig>();
  c->chart = ChartSpec::parse(m, kEwma);
  c->lambda = m.number("lambda", c->lambda, 1e-6, 1);
  c->limit = m.number("limit", c->limit, 0, 100);
  return c;
}

}  // namespace canarysim
