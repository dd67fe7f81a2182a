// The decision rules of the `stepped` policy, driven by synthetic telemetry.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "policies/policy.h"
#include "sim/io/config.h"
#include "sim/model/telemetry.h"

namespace canarysim {
namespace {

constexpr const char* kPolicy = R"(
kind: stepped
steps: [10, 50, 100]
bake_time: 2m
interval: 1m
failure_limit: 1
rollback_drain: 30s
checks:
  - {metric: error_rate, max: 5%}
  - {metric: ttft_p99, max_ratio: 1.2, min_samples: 20}
)";

class SteppedTest : public ::testing::Test {
 protected:
  void SetUp() override { Load(kPolicy); }
  void Load(const std::string& yaml) {
    config_ = parse_policy(ConfigMap::parse_string(yaml, "<test>"));
    policy_ = config_->make();
    // No scrape delay: what is recorded in a minute is read at its end.
    telemetry_ = std::make_unique<Telemetry>(TelemetryOptions{10, 0}, config_->max_lookback_s(),
                                             600);
  }
  // During the minute before `t`: 100 baseline requests with TTFT 1 s, and `canary`
  // canary requests with TTFT `canary_ttft`, of which `errors` fail.
  void Minute(double t, int canary = 100, double canary_ttft = 1.0, int errors = 0) {
    for (int i = 0; i < 100; ++i) {
      const double at = t - 60 + i * 0.5;
      telemetry_->record(Version::kBaseline, at, at + 1, Served(1.0, false));
    }
    for (int i = 0; i < canary; ++i) {
      const double at = t - 60 + i * 0.5;
      telemetry_->record(Version::kCanary, at, at + 1, Served(canary_ttft, i < errors));
    }
  }
  static Completion Served(double ttft, bool error) {
    Completion c;
    c.error = error;
    c.ttft = ttft;
    c.itl = 0.03;
    c.latency = ttft;
    return c;
  }
  Decision DecideAt(double t) {
    Decision d = policy_->decide(Observation(t, weight_, *telemetry_));
    if (d.action == Decision::Action::kSetWeight) weight_ = d.weight;
    return d;
  }
  Decision HealthyMinuteThenDecide(double t) {
    Minute(t);
    return DecideAt(t);
  }

  std::shared_ptr<const PolicyConfig> config_;
  std::unique_ptr<Policy> policy_;
  std::unique_ptr<Telemetry> telemetry_;
  double weight_ = 0.1;
};

using Action = Decision::Action;

TEST_F(SteppedTest, StartsAtTheFirstStep) { EXPECT_DOUBLE_EQ(policy_->initial_weight(), 0.1); }

TEST_F(SteppedTest, HoldsUntilTheStepHasBakedThenAdvances) {
  EXPECT_EQ(HealthyMinuteThenDecide(60).action, Action::kHold);
  const Decision d = HealthyMinuteThenDecide(120);
  EXPECT_EQ(d.action, Action::kSetWeight);
  EXPECT_DOUBLE_EQ(d.weight, 0.5);
}

TEST_F(SteppedTest, PromotesWhenTheNextStepIsOneHundredPercent) {
  HealthyMinuteThenDecide(60);
  HealthyMinuteThenDecide(120);  // to 50 %
  EXPECT_EQ(HealthyMinuteThenDecide(180).action, Action::kHold);
  EXPECT_EQ(HealthyMinuteThenDecide(240).action, Action::kPromote);
}

TEST_F(SteppedTest, PromotesAfterTheLastStepWhenItIsBelowOneHundred) {
  Load(R"(
kind: stepped
steps: [20]
bake_time: 1m
interval: 1m
checks: [{metric: error_rate, max: 5%}]
)");
  EXPECT_EQ(HealthyMinuteThenDecide(60).action, Action::kPromote);
}

TEST_F(SteppedTest, RollsBackWhenFailuresExceedTheFailureLimit) {
  Minute(60, 100, 1.0, /*errors=*/10);  // 10 % errors > 5 %
  const Decision first = DecideAt(60);
  EXPECT_EQ(first.action, Action::kHold);
  EXPECT_NE(first.reason.find("failed analysis 1"), std::string::npos) << first.reason;
  Minute(120, 100, 1.0, 10);
  const Decision second = DecideAt(120);
  EXPECT_EQ(second.action, Action::kRollback);
  EXPECT_DOUBLE_EQ(second.drain_s, 30);
  EXPECT_NE(second.reason.find("error_rate"), std::string::npos) << second.reason;
}

TEST_F(SteppedTest, RollsBackWhenCanaryTtftRatioExceedsItsMaximum) {
  Minute(60, 100, /*canary_ttft=*/1.3);
  EXPECT_EQ(DecideAt(60).action, Action::kHold);
  Minute(120, 100, 1.3);
  const Decision d = DecideAt(120);
  EXPECT_EQ(d.action, Action::kRollback);
  EXPECT_NE(d.reason.find("ttft_p99"), std::string::npos) << d.reason;
}

TEST_F(SteppedTest, ARatioJustUnderTheMaximumPasses) {
  Minute(60, 100, 1.18);
  Minute(120, 100, 1.18);
  DecideAt(60);
  EXPECT_EQ(DecideAt(120).action, Action::kSetWeight);
}

TEST_F(SteppedTest, AFailedAnalysisBlocksTheAdvanceButFailuresAreCumulative) {
  HealthyMinuteThenDecide(60);
  Minute(120, 100, 1.0, 10);
  EXPECT_EQ(DecideAt(120).action, Action::kHold);  // baked, but failed: no advance
  EXPECT_EQ(HealthyMinuteThenDecide(180).action, Action::kSetWeight);
  Minute(240, 100, 1.0, 10);
  EXPECT_EQ(DecideAt(240).action, Action::kRollback);  // second failure over the rollout
}

TEST_F(SteppedTest, TooFewSamplesHoldsWithoutCountingAFailure) {
  for (double t = 60; t <= 600; t += 60) {
    Minute(t, /*canary=*/10, /*canary_ttft=*/3.0);  // would fail, but 10 < min_samples 20
    const Decision d = DecideAt(t);
    ASSERT_EQ(d.action, Action::kHold);
    ASSERT_NE(d.reason.find("no data"), std::string::npos) << d.reason;
  }
}

TEST_F(SteppedTest, AZeroFailureLimitRollsBackOnTheFirstFailure) {
  Load(R"(
kind: stepped
failure_limit: 0
checks: [{metric: error_rate, max: 1%}]
)");
  Minute(60, 100, 1.0, 5);
  EXPECT_EQ(DecideAt(60).action, Action::kRollback);
}

TEST_F(SteppedTest, DefaultsAreTheClassicLadder) {
  Load("kind: stepped\nchecks: [{metric: error_rate, max: 1%}]\n");
  EXPECT_DOUBLE_EQ(policy_->initial_weight(), 0.01);
  EXPECT_DOUBLE_EQ(config_->interval_s(), 60);
}

}  // namespace
}  // namespace canarysim

namespace canarysim {
namespace {

TEST_F(SteppedTest, AFinalBakeHoldsAtOneHundredPercentUnderAbsoluteChecks) {
  Load(R"(
kind: stepped
steps: [50, 100]
bake_time: 1m
interval: 1m
final_bake: 3m
failure_limit: 0
checks: [{metric: error_rate, max: 5%}]
)");
  Minute(60);
  const Decision full = DecideAt(60);
  EXPECT_EQ(full.action, Action::kSetWeight);
  EXPECT_DOUBLE_EQ(full.weight, 1.0);
  Minute(120);
  EXPECT_EQ(DecideAt(120).action, Action::kHold);
  Minute(180, 100, 1.0, 10);  // an alarm during the final bake rolls back
  EXPECT_EQ(DecideAt(180).action, Action::kRollback);
}

TEST_F(SteppedTest, AFinalBakeEndsInPromotion) {
  Load("kind: stepped\nsteps: [50]\nbake_time: 1m\nfinal_bake: 2m\nchecks: [{metric: error_rate, max: 5%}]\n");
  Minute(60);
  EXPECT_DOUBLE_EQ(DecideAt(60).weight, 1.0);
  Minute(120);
  EXPECT_EQ(DecideAt(120).action, Action::kHold);
  Minute(180);
  EXPECT_EQ(DecideAt(180).action, Action::kPromote);
}

}  // namespace
}  // namespace canarysim
