// kind: flagger, against the order of Flagger's scheduler.
#include "tests/policy_fixture.h"

namespace canarysim {
namespace {

constexpr const char* kFlagger = R"(
kind: flagger
interval: 1m
threshold: 2
stepWeight: 20
maxWeight: 60
metrics:
  - name: request-success-rate
    thresholdRange: {min: 99}
  - name: request-duration
    thresholdRange: {max: 1500}
)";

class FlaggerTest : public PolicyTest {
 protected:
  void SetUp() override { Load(kFlagger); }
};

TEST_F(FlaggerTest, StartsWithoutTrafficAndSkipsTheFirstAnalysis) {
  EXPECT_DOUBLE_EQ(policy_->initial_weight(), 0);
  const Decision d = DecideAt(60);  // no data at all, yet no failed check
  EXPECT_EQ(d.action, Action::kSetWeight);
  EXPECT_DOUBLE_EQ(d.weight, 0.2);
}

TEST_F(FlaggerTest, AdvancesByStepWeightThenPromotesAtMaxWeight) {
  DecideAt(60);
  Minute(120);
  EXPECT_DOUBLE_EQ(DecideAt(120).weight, 0.4);
  Minute(180);
  EXPECT_DOUBLE_EQ(DecideAt(180).weight, 0.6);
  Minute(240);
  EXPECT_EQ(DecideAt(240).action, Action::kPromote);
}

TEST_F(FlaggerTest, AFailedCheckHaltsAdvancementAndCounts) {
  DecideAt(60);
  Minute(120, 100, 1.0, /*errors=*/5);  // 95 % success < 99
  const Decision d = DecideAt(120);
  EXPECT_EQ(d.action, Action::kHold);
  EXPECT_NE(d.reason.find("failed checks 1"), std::string::npos) << d.reason;
}

TEST_F(FlaggerTest, RollsBackBeforeAnalysingOnceFailedChecksReachTheThreshold) {
  DecideAt(60);
  Minute(120, 100, 2.0);  // request-duration 2000 ms > 1500
  EXPECT_EQ(DecideAt(120).action, Action::kHold);
  Minute(180, 100, 2.0);
  EXPECT_EQ(DecideAt(180).action, Action::kHold);  // second failed check
  Minute(240);  // healthy now, but the threshold was reached: rollback comes first
  EXPECT_EQ(DecideAt(240).action, Action::kRollback);
}

TEST_F(FlaggerTest, NoDataCountsAsAFailedCheck) {
  DecideAt(60);
  const Decision d = DecideAt(120);  // no canary traffic recorded
  EXPECT_EQ(d.action, Action::kHold);
  EXPECT_NE(d.reason.find("no values found"), std::string::npos) << d.reason;
}

TEST_F(FlaggerTest, StepWeightsGoFromEntryToEntry) {
  Load("kind: flagger\nstepWeights: [1, 10, 50]\nmetrics: [{name: error_rate, thresholdRange: {max: 1}}]\n");
  EXPECT_DOUBLE_EQ(DecideAt(60).weight, 0.01);
  Minute(120);
  EXPECT_DOUBLE_EQ(DecideAt(120).weight, 0.10);
  Minute(180);
  EXPECT_DOUBLE_EQ(DecideAt(180).weight, 0.50);
  Minute(240);
  EXPECT_EQ(DecideAt(240).action, Action::kPromote);
}

// What a policy leaves out is what Flagger's source puts there: maxWeight 100
// (totalWeight), threshold 1 (GetAnalysisThreshold), a metric window of 1m
// (MetricInterval), whatever the analysis interval.
TEST_F(FlaggerTest, WhatAPolicyLeavesOutIsFlaggersDefault) {
  Load("kind: flagger\ninterval: 2m\nstepWeight: 50\nmetrics: [{name: error_rate, thresholdRange: {max: 1}}]\n");
  EXPECT_DOUBLE_EQ(DecideAt(120).weight, 0.5);
  Minute(180, 100, 1.0, /*errors=*/50);  // the interval's first minute: outside a 1m window
  Minute(240);
  EXPECT_DOUBLE_EQ(DecideAt(240).weight, 1.0);
  Minute(300);
  Minute(360, 100, 1.0, /*errors=*/50);
  EXPECT_EQ(DecideAt(360).action, Action::kHold);  // one failed check...
  Minute(420);
  Minute(480);
  EXPECT_EQ(DecideAt(480).action, Action::kRollback);  // ...is the threshold
  // maxWeight beside stepWeights, which Flagger ignores, is refused.
  EXPECT_THROW(Load("kind: flagger\nstepWeights: [1, 10, 80]\nmaxWeight: 50\nmetrics: []\n"), InputError);
}

TEST_F(FlaggerTest, BlueGreenMirrorsMirrorWeightOfTheTraffic) {
  Load("kind: flagger\niterations: 3\nmirror: true\nmirrorWeight: 20\nmetrics: [{name: error_rate, thresholdRange: {max: 1}}]\n");
  EXPECT_DOUBLE_EQ(DecideAt(60).mirror, 0.2);
  Load("kind: flagger\niterations: 3\nmirror: true\nmetrics: []\n");
  EXPECT_DOUBLE_EQ(DecideAt(60).mirror, 1.0);  // all of it unless said
  EXPECT_THROW(Load("kind: flagger\nstepWeight: 10\nmirrorWeight: 20\nmetrics: []\n"), InputError);
}

TEST_F(FlaggerTest, IntervalsShorterThanTenSecondsAreRejected) {
  EXPECT_THROW(Load("kind: flagger\ninterval: 5s\nstepWeight: 10\nmetrics: [{name: error_rate, thresholdRange: {max: 1}}]\n"),
               InputError);
}

}  // namespace
}  // namespace canarysim
