// kind: argo: steps, analysis runs, and Argo's measurement and run phases.
#include <cmath>

#include "policies/expr.h"
#include "tests/policy_fixture.h"

namespace canarysim {
namespace {

// A condition that must parse.
Expression Parsed(const char* text) {
  std::string error;
  auto x = Expression::parse(text, &error);
  EXPECT_TRUE(x) << text << ": " << error;
  return x ? *x : *Expression::parse("true", nullptr);
}

TEST(ExpressionTest, EvaluatesArgoStyleConditions) {
  std::string error;
  auto e = Expression::parse("result[0] >= 0.95 && result <= 1", &error);
  ASSERT_TRUE(e) << error;
  EXPECT_TRUE(e->holds(0.97));
  EXPECT_FALSE(e->holds(0.9));
  EXPECT_TRUE(Expression::parse("not (result > 2) or isNaN(result)", &error)->holds(1));
  EXPECT_TRUE(Expression::parse("result * 100 - 5 == 95", &error)->holds(1));
  EXPECT_FALSE(Expression::parse("result <", &error));
  EXPECT_NE(error.find("column"), std::string::npos);
  EXPECT_FALSE(Expression::parse("result[x] > 0", &error));
  // expr-lang's numeric builtins.
  EXPECT_TRUE(Expression::parse("abs(result[0] - 1) < 0.1", &error)->holds(0.95));
  EXPECT_FALSE(Expression::parse("abs(result[0] - 1) < 0.1", &error)->holds(1.2));
  EXPECT_EQ(Expression::parse("int(result * 100)", &error)->evaluate(0.029), 2.0);  // truncated
  EXPECT_EQ(Expression::parse("round(result * 100)", &error)->evaluate(0.025), 3.0);
  EXPECT_EQ(Expression::parse("floor(result) + ceil(result)", &error)->evaluate(1.5), 3.0);
  EXPECT_EQ(Expression::parse("max(result, 0.2, 0.1) + min(result, 0.1)", &error)->evaluate(0.5), 0.6);
  EXPECT_EQ(Expression::parse("float(result) < 1", &error)->evaluate(0.5), 1.0);
  EXPECT_FALSE(Expression::parse("max(result)", &error));
  EXPECT_TRUE(Parsed("max(result, 0) < 1").takes_extremes());
  EXPECT_FALSE(Parsed("abs(result) < 1").takes_extremes());
}

// A canarysim measurement is one series, as a PromQL query aggregated to one is: result[1]
// is out of range and fails, as in Argo, when the evaluation reaches it; result[-1] is
// the last (and only) element; a guard that short-circuits decides first.
TEST(ExpressionTest, AReadPastTheOneSeriesFailsWhenReached) {
  std::string error;
  const auto both = Expression::parse("result[0] >= 0.95 && result[1] >= 0.95", &error);
  ASSERT_TRUE(both) << error;
  EXPECT_TRUE(both->reads_past_one_series());
  EXPECT_EQ(both->evaluate(0.9), 0.0);           // && stops before result[1]
  EXPECT_EQ(both->evaluate(0.97), std::nullopt);  // reaches it: index out of range
  EXPECT_FALSE(both->holds(0.97));
  EXPECT_EQ(Expression::parse("result[-1] > 1", &error)->evaluate(2), 1.0);
  EXPECT_FALSE(Expression::parse("result[-1] > 1", &error)->reads_past_one_series());
  const auto guarded = Expression::parse("len(result) < 2 || result[1] < 0.01", &error);
  EXPECT_EQ(guarded->evaluate(0.5), 1.0);
  EXPECT_EQ(guarded->evaluate(std::nullopt), 1.0);  // no data: len 0
  EXPECT_EQ(Expression::parse("default(result[2], 0) < 1", &error)->evaluate(0.5), std::nullopt);
  EXPECT_EQ(Expression::parse("result < 1", &error)->evaluate(std::nullopt), std::nullopt);
}

// What `result` is depends on the provider (a Prometheus list, a Datadog number, a New
// Relic row); a read of the wrong form fails in Argo, and here.
TEST(ExpressionTest, TheResultIsReadAsTheProviderGivesIt) {
  std::string error;
  const auto e = Parsed;
  using S = ResultShape;
  EXPECT_EQ(e("result < 1").evaluate(0.5, S::kVector), std::nullopt);  // [0.5] < 1: mismatched types
  EXPECT_EQ(e("result[0] < 1").evaluate(0.5, S::kVector), 1.0);
  EXPECT_EQ(e("result[-1] < 1").evaluate(0.5, S::kVector), 1.0);
  EXPECT_EQ(e("isNaN(result)").evaluate(0.5, S::kVector), std::nullopt);
  EXPECT_EQ(e("len(result) == 0 || result[0] < 1").evaluate(std::nullopt, S::kVector), 1.0);
  EXPECT_EQ(e("default(result, 0) < 1").evaluate(0.5, S::kVector), std::nullopt);  // returns the list
  EXPECT_EQ(e("default(result, 0) < 1").evaluate(std::nullopt, S::kVector), std::nullopt);  // [] is not nil
  EXPECT_EQ(e("result < 1").evaluate(0.5, S::kScalar), 1.0);
  EXPECT_EQ(e("result[0] < 1").evaluate(0.5, S::kScalar), std::nullopt);
  EXPECT_EQ(e("default(result, 0) < 1").evaluate(std::nullopt, S::kScalar), 1.0);  // Datadog's nil
  EXPECT_EQ(e("len(result) > 0").evaluate(0.5, S::kScalar), std::nullopt);
  EXPECT_EQ(e("result.rate < 1").evaluate(0.5, S::kMap), 1.0);
  EXPECT_EQ(e("result < 1").evaluate(0.5, S::kMap), std::nullopt);
  for (const char* any : {"result < 1", "result[0] < 1", "result.rate < 1", "default(result, 2) < 1"})
    EXPECT_EQ(e(any).evaluate(0.5, S::kAny), 1.0) << any;
  // isNil(x) is whether the whole result is nil (x aside): Datadog's no data, not
  // Prometheus's empty list; isInf as Go's math.IsInf(x, 0).
  EXPECT_EQ(e("isNil(result) || result < 1").evaluate(std::nullopt, S::kScalar), 1.0);
  EXPECT_EQ(e("isNil(result) || result < 1").evaluate(2.0, S::kScalar), 0.0);
  EXPECT_EQ(e("isNil(result) || result[0] < 1").evaluate(std::nullopt, S::kVector), std::nullopt);
  EXPECT_EQ(e("isNil(result[0])").evaluate(std::nullopt, S::kAny), std::nullopt);  // the argument is evaluated
  EXPECT_EQ(e("isNil(result)").evaluate(std::nan(""), S::kScalar), 0.0);          // scalar()'s NaN is a number
  EXPECT_EQ(e("isInf(result[0])").evaluate(HUGE_VAL, S::kVector), 1.0);
  EXPECT_EQ(e("isInf(result[0])").evaluate(0.5, S::kVector), 0.0);
  // expr-lang's a ? b : c, short-circuited.
  const Expression guarded = e("(len(result) == 0 ? 1 : result[0]) >= 0.5");
  EXPECT_EQ(guarded.evaluate(std::nullopt, S::kVector), 1.0);
  EXPECT_EQ(guarded.evaluate(0.2, S::kVector), 0.0);
}

// expr-lang's all(result, pred) and its kin judge each element of a list: one series with
// data, none without (all and none of nothing hold). A number or a map is not a list.
TEST(ExpressionTest, QuantifiersJudgeEachSeriesAndHoldVacuouslyOnNoData) {
  std::string error;
  const auto e = Parsed;
  using S = ResultShape;
  for (const char* text : {"all(result, {# < 0.05})", "all(result, # < 0.05)", "any(result, {# < 0.05})",
                           "one(result, {# < 0.05})", "none(result, {# >= 0.05})", "count(result, {# < 0.05}) == 1"}) {
    SCOPED_TRACE(text);
    const Expression x = e(text);
    EXPECT_TRUE(x.quantifies());
    EXPECT_EQ(x.evaluate(0.01, S::kVector), 1.0);
    EXPECT_EQ(x.evaluate(0.2, S::kVector), 0.0);
    EXPECT_EQ(x.evaluate(0.01, S::kAny), 1.0);
    EXPECT_EQ(x.evaluate(0.01, S::kScalar), std::nullopt);  // cannot iterate a number
    EXPECT_EQ(x.evaluate(0.01, S::kMap), std::nullopt);
  }
  EXPECT_EQ(e("all(result, {# < 0.05})").evaluate(std::nullopt, S::kVector), 1.0);   // vacuous
  EXPECT_EQ(e("none(result, {# > 0.05})").evaluate(std::nullopt, S::kVector), 1.0);  // vacuous
  EXPECT_EQ(e("any(result, {# < 0.05})").evaluate(std::nullopt, S::kVector), 0.0);
  EXPECT_EQ(e("count(result, {# < 0.05})").evaluate(std::nullopt, S::kVector), 0.0);
  EXPECT_EQ(e("len(result) > 0 && all(result, {# >= 0.95 || isNaN(#)})").evaluate(std::nan(""), S::kVector), 1.0);
  EXPECT_FALSE(e("result[0] < 1").quantifies());
  // '#' only in a predicate; a predicate is a comparison; only over the whole result.
  EXPECT_FALSE(Expression::parse("# < 1", &error));
  EXPECT_FALSE(Expression::parse("all(result, {# + 1})", &error));
  EXPECT_NE(error.find("predicate"), std::string::npos) << error;
  EXPECT_FALSE(Expression::parse("all(result[0].Values, {# < 1})", &error));
  EXPECT_FALSE(Expression::parse("all(result, {# < 1)", &error));
}

// Export writes Prometheus queries: a condition written for canarysim's any-form result is
// rewritten to read result[0], and means the same on a list.
TEST(ExpressionTest, AConditionIsRewrittenForAPrometheusList) {
  std::string error;
  auto vector_text = [&](const char* text) { return Expression::parse(text, &error)->text_as_vector(); };
  EXPECT_EQ(vector_text("result < 1"), "result[0] < 1");
  EXPECT_EQ(vector_text("isNaN(result) || result >= 0.95"), "isNaN(result[0]) || result[0] >= 0.95");
  EXPECT_EQ(vector_text("result.rate<1 and result[0] > 0"), "result[0]<1 and result[0] > 0");
  EXPECT_EQ(vector_text("default(result, 1) >= 0.5"), "(len(result) == 0 ? 1 : result[0]) >= 0.5");
  EXPECT_EQ(vector_text("len(result) == 0 || result[1] > 0"), "len(result) == 0 || result[1] > 0");
  EXPECT_EQ(vector_text("isNil(result) || result < 1"), "(len(result) == 0) || result[0] < 1");
  for (const char* text : {"result < 1", "default(result, 1) >= 0.5", "not (result * 100 > 2)", "isNaN(result) or result > 3",
                           "isNil(result) || result < 1", "isInf(result) || result > 2", "all(result, {# < 0.5})",
                           "none(result, # > 1) && result >= 0"}) {
    const Expression any = *Expression::parse(text, &error);
    const Expression list = *Expression::parse(any.text_as_vector(), &error);
    for (std::optional<double> x : {std::optional<double>(), std::optional(0.0), std::optional(0.4), std::optional(0.9),
                                    std::optional(5.0), std::optional(std::nan(""))}) {
      const auto a = any.evaluate(x), b = list.evaluate(x, ResultShape::kVector);
      EXPECT_EQ(a.has_value(), b.has_value()) << text;
      if (a && b) {
        EXPECT_EQ(*a, *b) << text;
      }
    }
  }
}

constexpr const char* kArgo = R"(
kind: argo
steps:
  - setWeight: 10
  - analysis: {templates: [{templateName: errors}]}
  - setWeight: 50
  - pause: {duration: 2m}
templates:
  errors:
    metrics:
      - name: error-rate
        interval: 1m
        count: 2
        successCondition: result < 0.01
        failureCondition: result >= 0.05
        provider: {query: error_rate}
tick: 1m
)";

class ArgoTest : public PolicyTest {
 protected:
  void SetUp() override { Load(kArgo); }
  // A background analysis of one metric (a flow mapping) on a 10 % canary, a tick a minute.
  void LoadBackground(const std::string& metric) {
    Load("kind: argo\nsteps: [{setWeight: 10}, {pause: {duration: 1h}}]\n"
         "analysis: {templates: [{templateName: t}]}\ntemplates: {t: {metrics: [" + metric + "]}}\ntick: 1m\n");
  }
  // The decision at t aborts the rollout because a metric ended in Error.
  void ExpectAbortedInError(double t) {
    const Decision d = DecideAt(t);
    EXPECT_EQ(d.action, Action::kRollback);
    EXPECT_NE(d.reason.find("Error"), std::string::npos) << d.reason;
  }
};

TEST_F(ArgoTest, WalksStepsAndPromotesAfterTheLast) {
  EXPECT_DOUBLE_EQ(DecideAt(60).weight, 0.10);  // setWeight, then the analysis starts
  Minute(120);
  EXPECT_EQ(DecideAt(120).action, Action::kHold);  // first measurement, successful
  Minute(180);
  const Decision d = DecideAt(180);                 // second: the run is Successful
  EXPECT_EQ(d.action, Action::kSetWeight);
  EXPECT_DOUBLE_EQ(d.weight, 0.5);
  EXPECT_EQ(DecideAt(240).action, Action::kHold);  // pausing
  EXPECT_EQ(DecideAt(300).action, Action::kPromote);
}

TEST_F(ArgoTest, AFailedMeasurementBeyondTheLimitAbortsTheRollout) {
  DecideAt(60);
  Minute(120, 100, 1.0, 10);  // 10 % >= 5 %: Failed; failureLimit 0
  const Decision d = DecideAt(120);
  EXPECT_EQ(d.action, Action::kRollback);
  EXPECT_NE(d.reason.find("Failed"), std::string::npos) << d.reason;
}

TEST_F(ArgoTest, NeitherConditionTrueIsInconclusiveAndPausesTheRollout) {
  DecideAt(60);
  Minute(120, 100, 1.0, 3);  // 3 %: not < 1 %, not >= 5 %
  const Decision d = DecideAt(120);
  EXPECT_EQ(d.action, Action::kHold);
  EXPECT_NE(d.reason.find("Inconclusive"), std::string::npos) << d.reason;
  Minute(180);
  EXPECT_EQ(DecideAt(180).action, Action::kHold);  // paused for a person, for good
  EXPECT_EQ(DecideAt(600).action, Action::kHold);
}

TEST_F(ArgoTest, ConsecutiveErrorsBeyondTheLimitEndInError) {
  LoadBackground("{name: m, interval: 1m, successCondition: result < 0.01, consecutiveErrorLimit: 2, "
                 "provider: {query: error_rate}}");
  DecideAt(60);  // background analysis starts; no canary data from here on
  EXPECT_EQ(DecideAt(120).action, Action::kHold);  // error 1
  EXPECT_EQ(DecideAt(180).action, Action::kHold);  // error 2
  ExpectAbortedInError(240);                       // error 3 > limit 2
}

// PromQL's scalar() of no data is NaN, not nothing: a comparison on it is false, so the
// measurement is Failed (a success condition alone) or Successful (a failure condition
// alone), not an Error; isNaN(result) sees it.
TEST_F(ArgoTest, ScalarOfNoDataIsNaNAndPhasedAsArgoPhasesIt) {
  LoadBackground("{name: m, interval: 1m, successCondition: result < 0.01, consecutiveErrorLimit: 2, "
                 "provider: {query: error_rate, result: scalar, no_data: nan}}");
  DecideAt(60);  // no canary data from here on
  const Decision failed = DecideAt(120);
  EXPECT_EQ(failed.action, Action::kRollback);  // Failed, failureLimit 0: not an Error tolerated twice
  EXPECT_NE(failed.reason.find("Failed: no data: result NaN"), std::string::npos) << failed.reason;
  LoadBackground("{name: m, interval: 1m, failureCondition: result >= 0.01, "
                 "provider: {query: error_rate, result: scalar, no_data: nan}}");
  DecideAt(60);
  EXPECT_EQ(DecideAt(120).action, Action::kHold);  // NaN >= 0.01 is false: Successful
  EXPECT_EQ(DecideAt(600).action, Action::kHold);
  LoadBackground("{name: m, interval: 1m, successCondition: isNaN(result) || result < 0.01, "
                 "provider: {query: error_rate, result: scalar, no_data: nan}}");
  DecideAt(60);
  EXPECT_EQ(DecideAt(120).action, Action::kHold);  // guarded: Successful
  // Without no_data: nan (Datadog's nil) the same condition errs, within the limit.
  LoadBackground("{name: m, interval: 1m, successCondition: result < 0.01, consecutiveErrorLimit: 2, "
                 "provider: {query: error_rate, result: scalar}}");
  DecideAt(60);
  EXPECT_EQ(DecideAt(120).action, Action::kHold);
}

// Argo evaluates both conditions (success first) and makes the measurement an Error if
// either fails, even when the other alone would fail it; an Error is not counted toward
// `count`, so a metric of Errors ends in Error, never Successful.
TEST_F(ArgoTest, AnErrorInEitherConditionIsAnErrorAndIsNotCounted) {
  Load(R"(
kind: argo
steps: [{setWeight: 10}, {analysis: {templates: [{templateName: t}]}}, {setWeight: 50}]
templates:
  t:
    metrics:
      - {name: m, interval: 1m, count: 2, consecutiveErrorLimit: 2,
         successCondition: "result[0] < 0.01 && result[1] < 0.01", failureCondition: len(result) == 0,
         provider: {query: error_rate}}
tick: 1m
)");
  DecideAt(60);
  Minute(120, 100, 1.0, 0);  // 0 %: success reaches result[1], an Error
  EXPECT_EQ(DecideAt(120).action, Action::kHold);
  // No data: the failure condition holds, but the success condition fails first.
  EXPECT_EQ(DecideAt(180).action, Action::kHold);  // error 2 (counted, they would make count 2)
  Minute(240, 100, 1.0, 0);
  ExpectAbortedInError(240);  // error 3 > limit 2
}

// provider.result: vector (an import from Prometheus): `result < 0.01` compares a list,
// an Error at every measurement, and the rollout aborts however healthy the canary.
TEST_F(ArgoTest, AConditionOfTheWrongFormForItsProviderErrsAndAborts) {
  LoadBackground("{name: m, interval: 1m, successCondition: result < 0.01, consecutiveErrorLimit: 1, "
                 "provider: {query: error_rate, result: vector}}");
  DecideAt(60);
  Minute(120, 100, 1.0, 0);
  EXPECT_EQ(DecideAt(120).action, Action::kHold);  // error 1
  Minute(180, 100, 1.0, 0);
  ExpectAbortedInError(180);  // error 2 > limit 1
}

// Argo's own checks of a template (ValidateMetric, and the merge of an analysis's
// templates): what Argo refuses is refused, with the key, not simulated as a run that
// waits forever.
TEST_F(ArgoTest, WhatArgoRefusesInATemplateIsRefusedWithItsKey) {
  auto refused = [&](const std::string& metrics, const std::string& refs, const std::string& why) {
    const std::string text = "kind: argo\nsteps: [{setWeight: 10}, {analysis: {templates: " + refs +
                             "}}]\ntemplates:\n  t: {metrics: " + metrics +
                             "}\n  u: {metrics: [{name: m, interval: 1m, count: 2, successCondition: result < 1, "
                             "provider: {query: error_rate}}]}\n";
    try {
      Load(text);
      ADD_FAILURE() << "loaded: " << text;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  const std::string one = "[{templateName: t}]";
  refused("[{name: m, count: 3, successCondition: result < 1, provider: {query: error_rate}}]", one,
          "count: expected an interval with a count above 1");
  refused("[{name: m, interval: 1m, count: 2, failureLimit: 3, successCondition: result < 1, provider: {query: error_rate}}]",
          one, "failureLimit: expected at most count");
  refused("[{name: m, interval: 1m, count: 2, inconclusiveLimit: 3, successCondition: result < 1, provider: {query: error_rate}}]",
          one, "inconclusiveLimit: expected at most count");
  refused("[{name: m, successCondition: result < 1, provider: {query: error_rate}}, "
          "{name: m, successCondition: result < 2, provider: {query: error_rate}}]",
          one, "metrics[1].name: a name no other metric of the template has");
  refused("[{name: m, successCondition: result < 1, provider: {query: error_rate}}]", "[{templateName: t}, {templateName: u}]",
          "Argo refuses to merge two metrics named 'm'");
}

TEST_F(ArgoTest, AnInlineMetricWithAnIntervalNeedsACount) {
  EXPECT_THROW(Load(R"(
kind: argo
steps: [{analysis: {templates: [{templateName: t}]}}]
templates: {t: {metrics: [{name: m, interval: 1m, successCondition: result < 1, provider: {query: error_rate}}]}}
)"),
               InputError);
}

}  // namespace
}  // namespace canarysim
