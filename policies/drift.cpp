// kind: drift -- output drift and quality, judged on the graded sample of responses.
//
//   kind: drift
//   alpha: 1%                 # Hotelling's two-sample T-squared test on embeddings
//   min_graded: 100           # graded responses per version needed to judge
//   quality: {max_drop: 0.03} # canary mean quality at most this below the baseline's
//   lookback: 10m             # the data each judgement reads
//   failure_limit: 1          # failed judgements tolerated; one more rolls back
//   steps, bake_time, interval, rollback_drain   # the ladder (policies/ladder.h)
//
// Every interval, over the last `lookback`: the means of the canary's and the
// baseline's response embeddings are compared by Hotelling's T-squared with the pooled
// covariance (Eigen), whose F transform gives a p-value; p < alpha fails the judgement.
// The quality check fails when the canary's mean quality falls more than max_drop below
// the baseline's: from golden-set evaluations (scenario telemetry.golden) when the
// window holds some, else from the graded sample of live traffic (telemetry.eval_sample).
#include <Eigen/Dense>
#include <cstdio>

#include "policies/ladder.h"
#include "policies/registry.h"
#include "policies/stats.h"
#include "sim/io/config.h"
#include "sim/io/schema.h"

namespace canarysim {
namespace {

struct DriftConfig final : PolicyConfig {
  LadderSpec ladder;
  double max_weight() const override { return ladder.max_weight(); }
  std::string weighs_counts() const override { return "Hotelling's T2 on the graded responses"; }
  double alpha = 0.01, max_drop = -1, lookback = 600;
  uint64_t min_graded = 100, failure_limit = 1;
  std::string kind() const override { return "drift"; }
  double interval_s() const override { return ladder.interval_s; }
  double max_lookback_s() const override { return lookback; }
  std::unique_ptr<Policy> make() const override;
};

using Vec = Eigen::Matrix<double, kEmbeddingDims, 1>;
using Mat = Eigen::Matrix<double, kEmbeddingDims, kEmbeddingDims>;

// The p-value of Hotelling's two-sample T-squared for the embedding means.
double hotelling_p(const WindowStats& a, const WindowStats& b) {
  const double n1 = double(a.graded), n2 = double(b.graded), p = kEmbeddingDims;
  const Vec m1 = Eigen::Map<const Vec>(a.embedding_sum.data()) / n1;
  const Vec m2 = Eigen::Map<const Vec>(b.embedding_sum.data()) / n2;
  const Mat s1 = (Eigen::Map<const Mat>(a.embedding_cross.data()) - n1 * m1 * m1.transpose()) / (n1 - 1);
  const Mat s2 = (Eigen::Map<const Mat>(b.embedding_cross.data()) - n2 * m2 * m2.transpose()) / (n2 - 1);
  const Mat pooled = ((n1 - 1) * s1 + (n2 - 1) * s2) / (n1 + n2 - 2);
  const Vec d = m1 - m2;
  const double t2 = n1 * n2 / (n1 + n2) * d.dot(pooled.ldlt().solve(d));
  const double f = (n1 + n2 - p - 1) / (p * (n1 + n2 - 2)) * t2;
  return f_survival(f, p, n1 + n2 - p - 1);
}

class Drift final : public Policy {
 public:
  explicit Drift(const DriftConfig& c) : c_(c), ladder_(c.ladder) {}
  double initial_weight() const override { return ladder_.initial_weight(); }
  Decision decide(const Observation& obs) override {
    const WindowStats c = obs.canary(c_.lookback), b = obs.baseline(c_.lookback);
    if (c.graded < c_.min_graded || b.graded < c_.min_graded) return ladder_.advance(obs.now(), "waiting for graded responses");
    char buf[160];
    std::string failed;
    const double p = hotelling_p(c, b);
    if (p < c_.alpha) {
      std::snprintf(buf, sizeof buf, "embedding drift: Hotelling p = %.2g < %.2g", p, c_.alpha);
      failed = buf;
    }
    const bool golden = c.golden > 0 && b.golden > 0;
    const double drop = golden ? b.golden_sum / double(b.golden) - c.golden_sum / double(c.golden)
                               : b.quality_sum / double(b.graded) - c.quality_sum / double(c.graded);
    if (c_.max_drop >= 0 && drop > c_.max_drop) {
      std::snprintf(buf, sizeof buf, "%s%s quality %.3f below the baseline's (max drop %.3f)",
                    failed.empty() ? "" : "; ", golden ? "golden-set" : "graded", drop, c_.max_drop);
      failed += buf;
    }
    if (!failed.empty()) {
      if (++failures_ > c_.failure_limit) return ladder_.rollback(failed);
      return Decision::hold("failed judgement " + std::to_string(failures_) + ": " + failed);
    }
    return ladder_.advance(obs.now());
  }

 private:
  const DriftConfig& c_;
  Ladder ladder_;
  uint64_t failures_ = 0;
};

std::unique_ptr<Policy> DriftConfig::make() const { return std::make_unique<Drift>(*this); }

}  // namespace

using namespace schema;
const Section kDrift{"policy", "kind: drift", "Output drift: Hotelling's two-sample T-squared test on embeddings of graded responses, canary against baseline.", LadderSpec::with_ladder({
    {"kind", kText, "", "drift", "the policy kind"},
    {"alpha", kFraction, "1%", "[0, 1]", "significance of each judgement"},
    {"min_graded", kCount, "100", "[dimensions + 2, 10^9]", "graded responses per version needed to judge"},
    {"quality", kMap, "(none)", "", "a quality guard: section quality"},
    {"lookback", kDuration, "10m", "> 0", "the data each judgement reads"},
    {"failure_limit", kCount, "1", "[0, 10^6]", "failed judgements tolerated; one more rolls back"},
})};
const Section kDriftQuality{"policy", "kind: drift / quality", "Also roll back when quality drops.", {
    {"max_drop", kNumber | kFraction, "", "[0, 1]", "the canary's mean quality at most this below the baseline's"},
}};

std::unique_ptr<PolicyConfig> parse_drift(const ConfigMap& m) {
  m.allow(kDrift);
  auto c = std::make_unique<DriftConfig>();
  c->ladder = LadderSpec::parse(m);
  c->alpha = m.probability("alpha", c->alpha);
  c->min_graded = m.count("min_graded", c->min_graded, kEmbeddingDims + 2, 1000000000);
  c->lookback = m.duration("lookback", c->lookback);
  if (c->lookback <= 0) m.fail("lookback", "a positive duration");
  c->failure_limit = m.count("failure_limit", c->failure_limit, 0, 1000000);
  if (m.has("quality")) {
    const ConfigMap q = m.map("quality");
    q.allow(kDriftQuality);
    c->max_drop = q.number("max_drop", 0, 1);
  }
  return c;
}

}  // namespace canarysim
