// kayenta, sequential, burn_rate, cusum, ewma, drift and composite: their rules on
// synthetic telemetry, and the statistics behind them.
#include <cmath>

#include "policies/stats.h"
#include "sim/model/random.h"
#include "tests/policy_fixture.h"

namespace canarysim {
namespace {

TEST(StatsTest, MannWhitneyIntervalCoversTheTrueShiftAtItsLevel) {
  // 2,000 pairs of samples of 30 from N(0, 1) and N(0.3, 1): a 90 % interval should cover
  // the shift -0.3 in 90 % of them; five binomial sd is 3.4 points.
  Rng rng(1, 0, Stream::kRequests);
  int covered = 0;
  for (int k = 0; k < 2000; ++k) {
    std::vector<double> x(30), y(30);
    for (double& v : x) v = rng.normal();
    for (double& v : y) v = 0.3 + rng.normal();
    const ShiftInterval s = mann_whitney(x, y, 0.90);
    covered += s.lower <= -0.3 && -0.3 <= s.upper;
    ASSERT_LE(s.lower, s.estimate);
    ASSERT_LE(s.estimate, s.upper);
  }
  EXPECT_NEAR(covered / 2000.0, 0.90, 0.034);
}

TEST(StatsTest, HodgesLehmannIsTheMedianOfDifferences) {
  const ShiftInterval s = mann_whitney({1, 2, 3}, {0, 10}, 0.5);
  // differences: 1, 2, 3, -9, -8, -7 -> median (-7 + 1) / 2 = -3
  EXPECT_DOUBLE_EQ(s.estimate, -3);
}

TEST(StatsTest, FDistributionMatchesReferenceValues) {
  // scipy.stats.f.sf(3.0, 8, 100), f.sf(1.0, 5, 20) and beta.cdf(0.4, 2, 3).
  EXPECT_NEAR(f_survival(3.0, 8, 100), 0.004663562649231328, 1e-10);
  EXPECT_NEAR(f_survival(1.0, 5, 20), 0.44302518468487956, 1e-10);
  EXPECT_NEAR(incomplete_beta(2, 3, 0.4), 0.5248, 1e-10);
}

TEST(StatsTest, TEquivalentMatchesStudentsT) {
  // scipy.stats.t.isf(norm.sf(3), df): the same two-sided tail as 3 normal SEs.
  EXPECT_NEAR(t_equivalent(3, 1), 235.80149796043676, 1e-6);
  EXPECT_NEAR(t_equivalent(3, 4), 6.6202059784483, 1e-6);
  EXPECT_NEAR(t_equivalent(3, 19), 3.4472331501890694, 1e-6);
  EXPECT_NEAR(t_equivalent(3, 38), 3.2098835195304, 1e-6);
  EXPECT_NEAR(t_equivalent(3, 1e6), 3.0, 1e-4);
  EXPECT_GT(t_equivalent(3, 0.5), 1e5);  // no degree of freedom: nothing is told apart
}

class KayentaTest : public PolicyTest {
 protected:
  // Twenty minutes at 10 %, judged every ten on one-minute points.
  static constexpr const char* kSchedule = "kind: kayenta\nweight: 10\nlifetime: 20m\ninterval: 10m\nstep: 1m\n";
  void SetUp() override {
    Load(kSchedule + std::string(R"(
metrics:
  - {name: latency, metric: ttft_p50, groups: [latency], direction: increase}
  - {name: errors, metric: error_rate, groups: [errors], direction: increase}
classifier:
  group_weights: {latency: 50, errors: 50}
  score_thresholds: {pass: 95, marginal: 60}
)"));
  }
  void Steps(double from, double to, double canary_ttft) {
    for (double t = from; t <= to; t += 60) {
      // A little variation from minute to minute, as real series have.
      Traffic(t, 60, 100, canary_ttft * (1 + 0.01 * std::sin(t)), 0, 100);
      last_ = DecideAt(t);
      if (last_.action != Action::kHold) return;
    }
  }
  Decision last_;
};

TEST_F(KayentaTest, RunsAtItsFixedWeightAndPromotesOnAPassingLastScore) {
  EXPECT_DOUBLE_EQ(policy_->initial_weight(), 0.1);
  Steps(60, 1200, 1.0);
  EXPECT_EQ(last_.action, Action::kPromote);
  EXPECT_NE(last_.reason.find("score 100"), std::string::npos) << last_.reason;
}

TEST_F(KayentaTest, AHighMetricHalvesTheScoreAndFailsAtOrBelowMarginal) {
  Steps(60, 1200, 1.5);  // latency High: latency group 0, errors group 100 -> score 50
  EXPECT_EQ(last_.action, Action::kRollback);
  EXPECT_DOUBLE_EQ(weight_, 0.1);
  EXPECT_NE(last_.reason.find("score 50.0"), std::string::npos) << last_.reason;
}

// No data, as Kayenta's judge scores it (NetflixACAJudge, WeightedSumScorer). The canary
// serves nothing in these minutes, so its latency has no value at any step; its error
// rate neither (no requests).
TEST_F(KayentaTest, HalfTheMetricsWithoutDataScoreZeroWhereTheyWereLeftOut) {
  // Both metrics NoData: 2 of 2 >= half, so 0 and a rollback (it scored 100 and passed).
  for (double t = 60; t <= 600; t += 60) Traffic(t, 60, /*canary=*/0), last_ = DecideAt(t);
  EXPECT_EQ(last_.action, Action::kRollback);
  EXPECT_NE(last_.reason.find("score 0.0 (2 of 2 metrics have no data)"), std::string::npos) << last_.reason;
}

TEST_F(KayentaTest, NoDataFailsACriticalOrRequiredMetricAndAGroupWithoutDataScoresFull) {
  // The canary's requests are not graded, so its quality_mean has no value at any step;
  // its latency is High (1.5 s against 1 s) and its errors pass. Group weights 40/40/20.
  auto score_with = [&](const std::string& quality) {
    Load(kSchedule + std::string(R"(
classifier:
  group_weights: {latency: 40, errors: 40, quality: 20}
  score_thresholds: {pass: 95, marginal: 30}
metrics:
  - {name: latency, metric: ttft_p50, groups: [latency], direction: increase}
  - {name: errors, metric: error_rate, groups: [errors], direction: increase}
  - {name: quality, metric: quality_mean, groups: [quality])") + quality + "}\n");
    Decision d;
    for (double t = 60; t <= 600; t += 60) {
      Traffic(t, 60, /*canary=*/0);
      for (int i = 0; i < 100; ++i) {
        Completion c = Served(1.5 * (1 + 0.01 * std::sin(t)), false);
        c.graded = false;
        telemetry_->record(Version::kCanary, t - 60 + 0.6 * i, t - 60 + 0.6 * i + 0.001, c);
      }
      d = DecideAt(t);
    }
    return d;
  };
  // Left out of its group, which then scores 100 (Kayenta's WeightedSumScorer): 0 x 40 +
  // 100 x 40 + 100 x 20 = 60. (Dropping the group's weight instead would give 50.)
  Decision d = score_with("");
  EXPECT_EQ(d.action, Action::kHold);
  EXPECT_NE(d.reason.find("score 60.0 (latency High)"), std::string::npos) << d.reason;
  // Required: the metric fails in its group, 40.
  d = score_with(", must_have_data: true");
  EXPECT_EQ(d.action, Action::kHold);
  EXPECT_NE(d.reason.find("score 40.0 (latency High, quality has no data)"), std::string::npos) << d.reason;
  // Critical: the analysis fails.
  d = score_with(", critical: true");
  EXPECT_EQ(d.action, Action::kRollback);
  EXPECT_NE(d.reason.find("score 0.0 (critical metric quality has no data)"), std::string::npos) << d.reason;
  // nan_strategy replace: every step counts as 0, so the canary's quality is Low.
  d = score_with(", nan_strategy: replace");
  EXPECT_NE(d.reason.find("score 40.0 (latency High, quality Low)"), std::string::npos) << d.reason;
}

TEST_F(KayentaTest, RemovedOutliersLeaveTheEffectSizeToTheRest) {
  // 120 one-minute points; the canary is 1.2x the baseline but for one minute at 40 s,
  // which lifts the mean ratio to about 1.52. Kayenta's fences (p99 of 120 points lies
  // below the largest) leave that minute out, and 1.2 is under allowed_increase 1.4.
  auto run = [&](const std::string& outliers, int minutes = 120) {
    Load(R"(
kind: kayenta
weight: 10
lifetime: )" + std::to_string(2 * minutes) + "m\ninterval: " + std::to_string(minutes) + R"(m
step: 1m
metrics:
  - {name: latency, metric: ttft_p50, groups: [latency], direction: increase,
     effect_size: {allowed_increase: 1.4})" + outliers + R"(}
classifier:
  group_weights: {latency: 100}
  score_thresholds: {pass: 95, marginal: 60}
)");
    for (double t = 60; t <= 60 * minutes; t += 60) {
      Traffic(t, 60, 100, t == 1800 ? 40.0 : 1.2 * (1 + 0.01 * std::sin(t)));
      last_ = DecideAt(t);
    }
    return last_;
  };
  EXPECT_EQ(run("").action, Action::kRollback);
  EXPECT_NE(last_.reason.find("latency High"), std::string::npos) << last_.reason;
  EXPECT_EQ(run(", outliers: {strategy: keep}").action, Action::kRollback);
  const Decision d = run(", outliers: {strategy: remove}");
  EXPECT_EQ(d.action, Action::kHold);
  EXPECT_NE(d.reason.find("score 100.0"), std::string::npos) << d.reason;
  // Below 99 points the fences reach the extremes (the 1st and 99th percentiles of fewer
  // points are the smallest and the largest), so Kayenta removes nothing: at 60 points
  // the spike stays.
  EXPECT_EQ(run(", outliers: {strategy: remove}", 60).action, Action::kRollback);
}

TEST_F(KayentaTest, ItsNoDataAndOutlierKeysRefuseWhatTheyDoNotRead) {
  auto error = [&](const std::string& extra) -> std::string {
    try {
      Load("kind: kayenta\nmetrics:\n  - {name: l, metric: ttft_p50, groups: [g]" + extra +
           "}\nclassifier: {group_weights: {g: 100}, score_thresholds: {pass: 95, marginal: 75}}\n");
    } catch (const InputError& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_EQ(error(", nan_strategy: zero"),
            "<test>:3:60: metrics[0].nan_strategy: expected remove or replace, got 'zero'");
  EXPECT_EQ(error(", outliers: {strategy: drop}"),
            "<test>:3:67: metrics[0].outliers.strategy: expected keep or remove, got 'drop'");
  EXPECT_EQ(error(", outliers: {strategy: remove, factor: 0}"),
            "<test>:3:83: metrics[0].outliers.factor: expected a positive factor, got '0'");
  EXPECT_EQ(error(", outliers: {strategy: remove, outlierFactor: 2}"),
            "<test>:3:75: metrics[0].outliers.outlierFactor: unknown key; expected one of: strategy, factor");
  EXPECT_EQ(error(", must_have_data: yes"), "<test>:3:62: metrics[0].must_have_data: expected true or false, got 'yes'");
  EXPECT_EQ(error(", must_have_data: true, nan_strategy: replace, outliers: {strategy: remove, factor: 2}"), "accepted");
}

constexpr const char* kLadder = "steps: [10, 50]\nbake_time: 5m\ninterval: 1m\n";

TEST_F(PolicyTest, SequentialRollsBackOnStrongEvidenceOfMoreErrors) {
  Load(std::string("kind: sequential\nalpha: 5%\ntests: [error_rate]\n") + kLadder);
  Decision d;
  int t = 60;
  for (; t <= 600; t += 60) {
    Traffic(t, 60, 100, 1.0, /*errors=*/5, 900, /*baseline_errors=*/9);  // 5 % against 1 %
    d = DecideAt(t);
    if (d.action == Action::kRollback) break;
  }
  EXPECT_EQ(d.action, Action::kRollback);
  EXPECT_LE(t, 180);
}

TEST_F(PolicyTest, SequentialLetsEqualErrorRatesThrough) {
  Load(std::string("kind: sequential\nalpha: 5%\ntests: [error_rate, ttft_p90]\n") + kLadder);
  for (int t = 60; t <= 600; t += 60) {
    Traffic(t, 60, 100, 1.0, 1, 900, 9);  // 1 % each
    ASSERT_NE(DecideAt(t).action, Action::kRollback) << t;
  }
}

TEST_F(PolicyTest, BurnRateNeedsBothWindowsBurning) {
  Load(std::string("kind: burn_rate\nobjective: 99.9%\nrules: [{long: 10m, short: 2m, burn_rate: 14.4}]\n") + kLadder);
  for (int t = 60; t <= 480; t += 60) Traffic(t, 60, 1000, 1.0, 0), DecideAt(t);
  // 2 % errors: burn 20x over 2 min, but the 10 min window averages 20 * 2 / 10 = 4x.
  Traffic(540, 60, 1000, 1.0, 20);
  EXPECT_NE(DecideAt(540).action, Action::kRollback);
  Traffic(600, 60, 1000, 1.0, 20);
  EXPECT_NE(DecideAt(600).action, Action::kRollback);
  for (int t = 660; t <= 1200; t += 60) {
    Traffic(t, 60, 1000, 1.0, 20);
    if (DecideAt(t).action == Action::kRollback) {
      EXPECT_GE(t, 960);  // 10 min window reaches 14.4x after about 7.2 min of burning
      return;
    }
  }
  FAIL() << "never rolled back";
}

TEST_F(PolicyTest, CusumAccumulatesASmallPersistentQualityDrop) {
  Load(std::string("kind: cusum\nmetric: quality_mean\nmin_samples: 50\nk: 0.5\nh: 5\n") + "steps: [10, 50]\nbake_time: 1h\ninterval: 1m\n");
  int rolled = 0;
  for (int t = 60; t <= 3600 && !rolled; t += 60) {
    Traffic(t, 60, 200, 1.0, 0, 200, 0, /*canary_quality=*/0.79);  // a drop of 0.01 (0.28 sd per tick)
    if (DecideAt(t).action == Action::kRollback) rolled = t;
  }
  EXPECT_GT(rolled, 0);
}

TEST_F(PolicyTest, EwmaStaysQuietWithoutAShift) {
  Load(std::string("kind: ewma\nmetric: quality_mean\n") + kLadder);
  for (int t = 60; t <= 600; t += 60) {
    Traffic(t, 60, 200, 1.0, 0, 200, 0, 0.8);
    ASSERT_NE(DecideAt(t).action, Action::kRollback);
  }
}

TEST_F(PolicyTest, EwmaCatchesAClearQualityDrop) {
  Load(std::string("kind: ewma\nmetric: quality_mean\n") + kLadder);
  Decision d;
  for (int t = 60; t <= 600 && d.action != Action::kRollback; t += 60) {
    Traffic(t, 60, 200, 1.0, 0, 200, 0, 0.75);
    d = DecideAt(t);
  }
  EXPECT_EQ(d.action, Action::kRollback);
}

TEST_F(PolicyTest, CompositeRollsBackWhenAnyChildDoes) {
  Load(R"(
kind: composite
rollback: any_of
policies:
  - {kind: stepped, steps: [5, 20], bake_time: 5m, checks: [{metric: error_rate, max: 50%}]}
  - {kind: stepped, steps: [10, 30], bake_time: 5m, failure_limit: 0, checks: [{metric: ttft_p50, max: 1500ms}]}
)");
  EXPECT_DOUBLE_EQ(policy_->initial_weight(), 0.05);  // the lower of the two
  Minute(60, 100, 2.0);  // slow: the second child fails
  const Decision d = DecideAt(60);
  EXPECT_EQ(d.action, Action::kRollback);
  EXPECT_NE(d.reason.find("policy 2 (stepped)"), std::string::npos) << d.reason;
}

TEST_F(PolicyTest, CompositePromotesWhenAllChildrenHave) {
  Load(R"(
kind: composite
policies:
  - {kind: stepped, steps: [5], bake_time: 1m, checks: [{metric: error_rate, max: 50%}]}
  - {kind: stepped, steps: [10, 30], bake_time: 1m, checks: [{metric: error_rate, max: 50%}]}
)");
  Minute(60);
  EXPECT_EQ(DecideAt(60).action, Action::kSetWeight);  // first child done, second at 30 %
  EXPECT_DOUBLE_EQ(weight_, 0.30);
  Minute(120);
  EXPECT_EQ(DecideAt(120).action, Action::kPromote);
}

}  // namespace
}  // namespace canarysim

namespace canarysim {
namespace {

TEST_F(PolicyTest, PlanRunsStagesInGraphOrderAndSwitchesSegments) {
  Load(R"(
kind: plan
stages:
  - name: last
    after: [first]
    policy: {kind: stepped, steps: [50], bake_time: 1m, checks: [{metric: error_rate, max: 50%}]}
  - name: first
    segments: [internal]
    policy: {kind: stepped, steps: [100], bake_time: 1m, checks: [{metric: error_rate, max: 50%}]}
)");
  EXPECT_EQ(policy_->initial_segments(), std::vector<std::string>{"internal"});
  EXPECT_DOUBLE_EQ(policy_->initial_weight(), 1.0);  // the first stage in graph order
  Minute(60);
  const Decision d = DecideAt(60);
  EXPECT_EQ(d.action, Action::kSetWeight);
  EXPECT_DOUBLE_EQ(d.weight, 0.5);
  EXPECT_EQ(d.segments, std::vector<std::string>{"*"});  // the last stage serves everyone
  EXPECT_NE(d.reason.find("stage first passed; stage last starts"), std::string::npos) << d.reason;
  Minute(120);
  EXPECT_EQ(DecideAt(120).action, Action::kPromote);
}

TEST_F(PolicyTest, PlanRejectsACycleNamingIt) {
  try {
    Load(R"(
kind: plan
stages:
  - {name: a, after: [b], policy: {kind: stepped, checks: [{metric: error_rate, max: 1%}]}}
  - {name: b, after: [a], policy: {kind: stepped, checks: [{metric: error_rate, max: 1%}]}}
)");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("the stages form a cycle: "), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace canarysim
