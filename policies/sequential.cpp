// kind: sequential -- tests that stay valid however often they look.
//
//   kind: sequential
//   alpha: 5%                 # false rollback budget, split evenly over the tests
//   tests: [error_rate, ttft_p90]   # rate metrics (error_rate, hallucination_rate,
//                             # unsafe_rate) and latency quantiles (ttft_pXX, itl_pXX, latency_pXX)
//   effects: [1.5, 2, 3, 5]   # the alternatives mixed over, as multipliers (default)
//   steps, bake_time, interval, rollback_drain   # the ladder (policies/ladder.h)
//
// At each tick every test takes one new, disjoint batch of data (the last interval). A
// rate test conditions on the batch's events: under "no difference" each falls on the
// canary with probability r, the canary's share of trials; if the canary's rate is theta
// times the baseline's, with rho = theta r / (theta r + 1 - r). A quantile test counts
// canary requests above the baseline's q-quantile: probability at most 1 - q under "no
// difference", theta (1 - q) if the canary's tail is theta times heavier. Each test
// multiplies, batch by batch, the likelihood ratios of the alternatives and averages them
// with equal weights: a nonnegative (super)martingale of mean 1 under "no difference", so
// by Ville's inequality it ever reaches 1 / alpha_test with probability at most
// alpha_test. The rollout rolls back when one does: however often the policy looks, its
// false rollback rate stays at or below alpha (in the spirit of Lindon et al., KDD 2022,
// and of Howard and Ramdas's time-uniform confidence sequences). The baseline's quantile
// is taken as known; its sample is the larger one, and values in the quantile's own
// histogram bucket are not counted as above it, which errs on the safe side.
#include <cmath>
#include <cstdio>

#include "policies/comparison.h"
#include "policies/ladder.h"
#include "policies/registry.h"
#include "sim/io/config.h"

namespace canarysim {
namespace {

struct SequentialConfig final : PolicyConfig {
  LadderSpec ladder;
  double alpha = 0.05;
  std::vector<Metric> tests;
  std::vector<double> effects{1.5, 2, 3, 5};

  std::string kind() const override { return "sequential"; }
  double interval_s() const override { return ladder.interval_s; }
  double max_lookback_s() const override { return ladder.interval_s; }
  std::unique_ptr<Policy> make() const override;
};

class Sequential final : public Policy {
 public:
  explicit Sequential(const SequentialConfig& c)
      : c_(c), ladder_(c.ladder), log_lr_(c.tests.size(), std::vector<double>(c.effects.size(), 0)) {}
  double initial_weight() const override { return ladder_.initial_weight(); }

  Decision decide(const Observation& obs) override {
    const WindowStats canary = obs.canary(c_.ladder.interval_s), baseline = obs.baseline(c_.ladder.interval_s);
    const double threshold = std::log(static_cast<double>(c_.tests.size()) / c_.alpha);
    for (size_t t = 0; t < c_.tests.size(); ++t) {
      const auto b = batch_of(c_.tests[t], canary, baseline);
      if (!b) continue;
      double mixture = 0;  // log of the mean of the alternatives' likelihood ratios
      double best = -1e300;
      for (size_t k = 0; k < c_.effects.size(); ++k) {
        const double theta = c_.effects[k];
        const double p1 = c_.tests[t].is_rate() ? theta * b->p0 / (theta * b->p0 + 1 - b->p0)
                                               : std::min(0.999, theta * b->p0);
        log_lr_[t][k] += b->x * std::log(p1 / b->p0) + (b->n - b->x) * std::log((1 - p1) / (1 - b->p0));
        best = std::max(best, log_lr_[t][k]);
      }
      for (double l : log_lr_[t]) mixture += std::exp(l - best);
      const double log_m = best + std::log(mixture / static_cast<double>(c_.effects.size()));
      if (log_m >= threshold) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "%s: sequential evidence %.1f >= %.1f (alpha %.3g per test)",
                      c_.tests[t].name.c_str(), std::exp(log_m), std::exp(threshold),
                      c_.alpha / static_cast<double>(c_.tests.size()));
        return ladder_.rollback(buf);
      }
    }
    return ladder_.advance(obs.now());
  }

 private:
  const SequentialConfig& c_;
  Ladder ladder_;
  std::vector<std::vector<double>> log_lr_;  // per test, per alternative
};

std::unique_ptr<Policy> SequentialConfig::make() const { return std::make_unique<Sequential>(*this); }

}  // namespace

std::unique_ptr<PolicyConfig> parse_sequential(const ConfigMap& m) {
  std::vector<std::string> keys = {"kind", "alpha", "tests", "effects"};
  keys.insert(keys.end(), LadderSpec::keys().begin(), LadderSpec::keys().end());
  m.allow(keys);
  auto c = std::make_unique<SequentialConfig>();
  c->ladder = LadderSpec::parse(m);
  c->alpha = m.probability("alpha", c->alpha);
  if (c->alpha <= 0 || c->alpha >= 1) m.fail("alpha", "a false rollback budget in (0, 1)");
  const auto names = m.texts("tests");
  for (size_t i = 0; i < names.size(); ++i) {
    const auto metric = Metric::parse(names[i]);
    if (!metric || !(metric->is_rate() || (metric->is_time() && metric->stat == Metric::Stat::kQuantile)))
      m.fail_item("tests", i, "a rate metric (error_rate, hallucination_rate, unsafe_rate) or a latency quantile (ttft_p90, ...)");
    c->tests.push_back(*metric);
  }
  if (c->tests.empty()) m.fail("tests", "a list of at least one test");
  if (m.has("effects")) {
    c->effects = m.numbers("effects");
    for (size_t i = 0; i < c->effects.size(); ++i)
      if (!(c->effects[i] > 1)) m.fail_item("effects", i, "a multiplier above 1");
  }
  return c;
}

}  // namespace canarysim
