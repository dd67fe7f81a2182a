// kind: sequential -- tests that stay valid however often they look, at any traffic.
//
//   kind: sequential
//   alpha: 5%                 # false rollback budget, split evenly over the tests
//   tests: [error_rate, ttft_p90]   # rate metrics (error_rate, hallucination_rate,
//                             # unsafe_rate) and latency quantiles (ttft_pXX, itl_pXX, latency_pXX)
//   tolerance: 10%            # a difference this small is no regression (default 0)
//   effects: [1.5, 2, 3, 5]   # the alternatives mixed over, as multipliers (default)
//   steps, bake_time, interval, rollback_drain   # the ladder (policies/ladder.h)
//
// The hypothesis each test guards ("no regression", H0) is that the canary is at most
// (1 + tolerance) times the baseline: its rate at most (1 + tolerance) times the
// baseline's; its latency at most (1 + tolerance) times the baseline's in distribution
// near the quantile. At each tick every test takes one new, disjoint batch of data (the
// last interval) and counts events that could fall on either version:
//   rates       errors (hallucinations, unsafe answers) of both versions;
//   quantiles   requests above a threshold t fixed before the batch, the baseline's
//               q-quantile in the previous batch: the canary's above (1 + tolerance) t,
//               the baseline's at or above t (comparison.h).
// Given the batch's requests and its events, each event is the canary's with
// probability at most p0 = tau r / (tau r + 1 - r), r the canary's share of the batch's
// requests and tau = 1 + tolerance for rates, 1 for quantiles (whose tolerance is in the
// thresholds). The counts are draws without replacement (a hypergeometric law), whose
// exponential moments are at most the binomial's (Hoeffding 1963, theorem 4), so each
// batch's binomial likelihood ratio against p0 has mean at most 1 under H0, whatever the
// sample size; the threshold, fixed from data already used, leaves it so. Each test
// multiplies the batches' ratios for the alternatives theta (odds theta times p0's) and
// averages them: a nonnegative supermartingale of mean at most 1 under H0, so by Ville's
// inequality it ever reaches 1 / alpha_test with probability at most alpha_test. The
// rollout rolls back when one does: however often the policy looks and however little
// traffic it sees, its false rollback rate stays at or below alpha (in the spirit of
// Lindon et al., KDD 2022, and of Howard and Ramdas's time-uniform confidence sequences;
// results/validity.md measures it). With tolerance 0 on a fleet whose canary pool is truly
// a little slower, a test will, rightly, find it: set a tolerance for what is harmless.
#include <cmath>
#include <cstdio>
#include <optional>

#include "policies/comparison.h"
#include "policies/ladder.h"
#include "policies/registry.h"
#include "sim/io/config.h"
#include "sim/io/schema.h"

namespace canarysim {
namespace {

struct SequentialConfig final : PolicyConfig {
  LadderSpec ladder;
  double max_weight() const override { return ladder.max_weight(); }
  std::string weighs_counts() const override { return "likelihood ratios of event counts"; }
  double alpha = 0.05, tolerance = 0;
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
      : c_(c),
        ladder_(c.ladder),
        log_lr_(c.tests.size(), std::vector<double>(c.effects.size(), 0)),
        threshold_(c.tests.size()) {}
  double initial_weight() const override { return ladder_.initial_weight(); }

  Decision decide(const Observation& obs) override {
    const WindowStats canary = obs.canary(c_.ladder.interval_s), baseline = obs.baseline(c_.ladder.interval_s);
    const double threshold = std::log(static_cast<double>(c_.tests.size()) / c_.alpha);
    for (size_t t = 0; t < c_.tests.size(); ++t) {
      const Metric& m = c_.tests[t];
      std::optional<Batch> b;
      double tau = 1;
      if (m.is_rate()) {
        b = batch_of(m, canary, baseline);
        tau = 1 + c_.tolerance;
      } else {
        if (threshold_[t]) b = exceedance_batch(m, canary, baseline, *threshold_[t], c_.tolerance);
        if (const auto q = baseline_quantile(m, baseline)) threshold_[t] = q;  // the next batch's
      }
      if (!b) continue;
      const double p0 = tau * b->p0 / (tau * b->p0 + 1 - b->p0);
      if (!(p0 > 0 && p0 < 1)) continue;
      double mixture = 0;  // log of the mean of the alternatives' likelihood ratios
      double best = -1e300;
      for (size_t k = 0; k < c_.effects.size(); ++k) {
        const double theta = c_.effects[k];
        const double p1 = theta * p0 / (theta * p0 + 1 - p0);
        log_lr_[t][k] += b->x * std::log(p1 / p0) + (b->n - b->x) * std::log((1 - p1) / (1 - p0));
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
  std::vector<std::optional<double>> threshold_;  // quantile tests: from the previous batch
};

std::unique_ptr<Policy> SequentialConfig::make() const { return std::make_unique<Sequential>(*this); }

}  // namespace

using namespace schema;
const Section kSequential{"policy", "kind: sequential", "Always-valid sequential tests (mixture likelihood ratios): the canary can be judged at every interval with a false rollback rate of at most alpha in all.", LadderSpec::with_ladder({
    {"kind", kText, "", "sequential", "the policy kind"},
    {"alpha", kFraction, "5%", "(0, 1)", "the false rollback budget over the whole rollout"},
    {"tests", kTexts, "", "rate metrics or latency quantiles", "what is tested: error_rate, hallucination_rate, unsafe_rate, ttft_p90 ..."},
    {"effects", kNumbers, "[1.5, 2, 3, 5]", "each > 1", "the multipliers the mixture looks for"},
    {"tolerance", kFraction, "0", "[0, 1]", "a relative increase taken as harmless"},
})};

std::unique_ptr<PolicyConfig> parse_sequential(const ConfigMap& m) {
  m.allow(kSequential);
  auto c = std::make_unique<SequentialConfig>();
  c->ladder = LadderSpec::parse(m);
  c->alpha = m.probability("alpha", c->alpha);
  if (c->alpha <= 0 || c->alpha >= 1) m.fail("alpha", "a false rollback budget in (0, 1)");
  c->tolerance = m.probability("tolerance", 0);
  if (c->tolerance < 0 || c->tolerance > 1) m.fail("tolerance", "a relative tolerance in [0, 100%]");
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
