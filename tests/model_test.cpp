// The serving, routing and regression models end to end, seen through the telemetry a
// policy receives. A probe policy holds the canary at a fixed weight and adds up every
// window monitoring delivers, for the canary and the baseline.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>

#include "policies/policy.h"
#include "sim/io/config.h"
#include "sim/model/run.h"
#include "sim/model/scenario.h"

namespace canarysim {
namespace {

struct Totals {
  WindowStats canary, baseline;
};

class ProbeConfig final : public PolicyConfig {
 public:
  ProbeConfig(double weight, Totals* totals) : weight_(weight), totals_(totals) {}
  std::string kind() const override { return "probe"; }
  double interval_s() const override { return 300; }
  double max_lookback_s() const override { return 300; }
  std::unique_ptr<Policy> make() const override {
    struct Probe final : Policy {
      double w;
      Totals* totals;
      double initial_weight() const override { return w; }
      Decision decide(const Observation& obs) override {
        totals->canary.merge(obs.canary(300));
        totals->baseline.merge(obs.baseline(300));
        return Decision::hold();
      }
    };
    auto p = std::make_unique<Probe>();
    p->w = weight_;
    p->totals = totals_;
    return p;
  }

 private:
  double weight_;
  Totals* totals_;
};

constexpr const char* kTraffic = "traffic: {rate: 100/s, users: 20000, adversarial: 10%}\n";
constexpr const char* kBaseline = R"(
baseline:
  ttft: {median: 400ms, p99: 1.5s}
  inter_token: {median: 30ms, p99: 60ms}
  error_rate: 0.1%
  hallucination_rate: 2%
  unsafe_rate: 1%
  quality: {mean: 0.8, sd: 0.1}
  cost: {million_tokens: 2.0}
)";

class ModelTest : public ::testing::Test {
 protected:
  // Runs a one-hour scenario once with the canary held at `weight`: `extra` sections
  // after the default traffic and baseline, unless replaced.
  RunResult Run(const std::string& extra, double weight = 0.5,
                std::vector<TracePoint>* trace = nullptr, const std::string& traffic = kTraffic,
                const std::string& baseline = kBaseline) {
    const std::string yaml = "horizon: 1h\n" + traffic + baseline + extra +
                             "telemetry: {window: 10s, scrape_delay: 30s, eval_sample: 20%}\n";
    scenario_ = parse_scenario(
        ConfigMap::parse_string(yaml, std::string(CANARYSIM_SOURCE_DIR) + "/scenarios/t.yaml"));
    totals_ = Totals{};
    config_ = std::make_unique<ProbeConfig>(weight, &totals_);
    Simulator sim(scenario_, *config_);
    return sim.run(1, 0, trace);
  }
  static double Rate(uint64_t k, uint64_t n) { return static_cast<double>(k) / static_cast<double>(n); }
  // Five binomial standard deviations of a proportion p over n trials.
  static double Tol(double p, uint64_t n) { return 5 * std::sqrt(p * (1 - p) / static_cast<double>(n)); }

  Scenario scenario_;
  Totals totals_;
  std::unique_ptr<ProbeConfig> config_;
};

TEST_F(ModelTest, WithoutRegressionsBothVersionsLookAlike) {
  Run("");
  const WindowStats& c = totals_.canary;
  const WindowStats& b = totals_.baseline;
  EXPECT_NEAR(Rate(c.requests, c.requests + b.requests), 0.5, 0.02);
  EXPECT_NEAR(c.ttft.quantile(0.5) / b.ttft.quantile(0.5), 1, 0.02);
  EXPECT_NEAR(c.ttft.quantile(0.99) / b.ttft.quantile(0.99), 1, 0.05);
  // The sampled TTFT has the configured median and p99 (histogram error below 1 %).
  EXPECT_NEAR(b.ttft.quantile(0.5), 0.4, 0.4 * 0.02);
  EXPECT_NEAR(b.ttft.quantile(0.99), 1.5, 1.5 * 0.05);
}

TEST_F(ModelTest, HallucinationRegressionAddsItsRate) {
  Run("regressions: [{kind: hallucination, hallucination_rate: 5%}]\n");
  const WindowStats& c = totals_.canary;
  EXPECT_NEAR(Rate(c.hallucinations, c.successes()), 0.07, Tol(0.07, c.successes()));
  EXPECT_NEAR(Rate(totals_.baseline.hallucinations, totals_.baseline.successes()), 0.02,
              Tol(0.02, totals_.baseline.successes()));
}

TEST_F(ModelTest, UnsafeRegressionHitsAdversarialPromptsOnly) {
  Run("regressions: [{kind: unsafe, unsafe_rate: 20%}]\n");
  const WindowStats& c = totals_.canary;
  EXPECT_NEAR(Rate(c.adversarial, c.requests), 0.10, Tol(0.10, c.requests));
  EXPECT_NEAR(Rate(c.unsafe, c.adversarial), 0.21, Tol(0.21, c.adversarial));
}

TEST_F(ModelTest, VerbosityRegressionLengthensOutputsAndRaisesCost) {
  Run("regressions: [{kind: verbosity, output_multiplier: 1.5}]\n");
  const double c = totals_.canary.output_tokens / totals_.canary.successes();
  const double b = totals_.baseline.output_tokens / totals_.baseline.successes();
  EXPECT_NEAR(c / b, 1.5, 0.03);
  EXPECT_GT(totals_.canary.cost / totals_.canary.requests, totals_.baseline.cost / totals_.baseline.requests);
}

TEST_F(ModelTest, CostRegressionMultipliesCostPerRequest) {
  Run("regressions: [{kind: cost, cost_multiplier: 2}]\n");
  const double c = totals_.canary.cost / totals_.canary.requests;
  const double b = totals_.baseline.cost / totals_.baseline.requests;
  EXPECT_NEAR(c / b, 2, 0.05);
}

TEST_F(ModelTest, QualityRegressionLowersTheGradedScore) {
  Run("regressions: [{kind: quality, quality_drop: 0.1}]\n");
  const double c = totals_.canary.quality_sum / totals_.canary.graded;
  const double b = totals_.baseline.quality_sum / totals_.baseline.graded;
  EXPECT_NEAR(b - c, 0.1, 0.01);  // clipping to [0, 1] bends it a little
  EXPECT_NEAR(Rate(totals_.baseline.graded, totals_.baseline.successes()), 0.2, 0.01);
}

TEST_F(ModelTest, DriftRegressionMovesTheEmbeddingMean) {
  Run("regressions: [{kind: drift, shift: 1.0}]\n");
  double shift2 = 0, base2 = 0;
  for (int i = 0; i < kEmbeddingDims; ++i) {
    const double c = totals_.canary.embedding_sum[i] / totals_.canary.graded;
    const double b = totals_.baseline.embedding_sum[i] / totals_.baseline.graded;
    shift2 += (c - b) * (c - b);
    base2 += b * b;
  }
  EXPECT_NEAR(std::sqrt(shift2), 1.0, 0.05);
  EXPECT_LT(std::sqrt(base2), 0.05);  // the baseline stays at the origin
}

TEST_F(ModelTest, TailLatencyMovesP99ButNotP50) {
  Run("regressions: [{kind: tail_latency, probability: 3%, multiplier: 4}]\n");
  const WindowStats& c = totals_.canary;
  const WindowStats& b = totals_.baseline;
  EXPECT_NEAR(c.ttft.quantile(0.5) / b.ttft.quantile(0.5), 1, 0.03);
  // The canary's TTFT is the mixture 0.97 LN(m, s) + 0.03 LN(4m, s): solve F(x) = 0.99.
  const double m = 0.4, sd = std::log(1.5 / 0.4) / 2.3263478740408408;
  auto phi = [](double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); };
  auto cdf = [&](double x) {
    return 0.97 * phi(std::log(x / m) / sd) + 0.03 * phi(std::log(x / (4 * m)) / sd);
  };
  double lo = 0.1, hi = 100;
  for (int i = 0; i < 100; ++i) (cdf((lo + hi) / 2) < 0.99 ? lo : hi) = (lo + hi) / 2;
  EXPECT_NEAR(c.ttft.quantile(0.99) / lo, 1, 0.05);
  EXPECT_GT(c.ttft.quantile(0.99) / b.ttft.quantile(0.99), 1.3);
}

TEST_F(ModelTest, RampedRegressionGrowsOverItsRamp) {
  std::vector<TracePoint> trace;
  Run("regressions: [{kind: latency, ttft_multiplier: 2, shape: {ramp: 1h}}]\n", 0.5, &trace);
  // Ticks every 5 min report the last 5 min (30 s old): the ratio rises towards 2.
  const double early = trace[1].canary.ttft_p50_s / trace[1].baseline.ttft_p50_s;
  const double late = trace.back().canary.ttft_p50_s / trace.back().baseline.ttft_p50_s;
  EXPECT_LT(early, 1.15);
  EXPECT_GT(late, 1.75);
}

TEST_F(ModelTest, BurstRegressionIsOnlyThereDuringBursts) {
  std::vector<TracePoint> trace;
  Run("regressions: [{kind: errors, added_error_rate: 20%, shape: {bursts: {on: 5m, off: 5m}}}]\n",
      0.5, &trace);
  // Ticks at 5, 10, 15 ... min read the 5 min before (less 30 s): on, off, on, off ...
  int on = 0, off = 0;
  for (size_t i = 1; i < trace.size(); ++i) {
    if (trace[i].canary.error_rate > 0.1) ++on;
    if (trace[i].canary.error_rate < 0.05) ++off;
  }
  EXPECT_GE(on, 4);
  EXPECT_GE(off, 4);
}

TEST_F(ModelTest, ScopeLimitsARegressionToLongPrompts) {
  const RunResult r = Run(
      "regressions: [{kind: errors, added_error_rate: 50%, scope: {min_prompt_tokens: 3000}}]\n");
  const WindowStats& c = totals_.canary;
  // P(prompt >= 3000) for the default lognormal (median 800, p99 6000) is 5.5 %.
  const double p_long = 0.5 * std::erfc(std::log(3000.0 / 800) / (std::log(6000.0 / 800) / 2.3263) / std::sqrt(2.0));
  EXPECT_NEAR(Rate(c.errors, c.requests), 0.001 + 0.5 * p_long, Tol(0.5 * p_long, c.requests));
  EXPECT_LT(r.blast_radius_requests, r.canary_requests / 10);  // only long prompts were hit
}

// With a scope-all regression from the start, the blast radius by segment counts exactly
// the canary's requests by segment.
constexpr const char* kSegments =
    "traffic: {rate: 100/s, users: 100000, segments: [{name: internal, share: 2%}, "
    "{name: eu, share: 30%}, {name: us, share: 68%}]}\n";
constexpr const char* kEverything = "regressions: [{kind: errors, added_error_rate: 1%}]\n";

TEST_F(ModelTest, RoutingSendsTheFirstSegmentFirst) {
  const RunResult r = Run(std::string("routing: {first: [internal]}\n") + kEverything, 0.02,
                          nullptr, kSegments);
  ASSERT_GT(r.canary_requests, 0u);
  EXPECT_EQ(r.segment_blast_requests[0], r.canary_requests);  // internal users only
  EXPECT_NEAR(Rate(r.canary_requests, r.requests), 0.02, 0.003);
}

TEST_F(ModelTest, RoutingOnlyServesTheListedSegments) {
  const RunResult r = Run(std::string("routing: {only: [eu]}\n") + kEverything, 0.5, nullptr, kSegments);
  EXPECT_EQ(r.segment_blast_requests[1], r.canary_requests);
  // The weight is a share of the eligible users: half of eu's 30 %.
  EXPECT_NEAR(Rate(r.canary_requests, r.requests), 0.15, 0.02);
}

TEST_F(ModelTest, RoutingAlwaysSendsAMatchedCohort) {
  const RunResult r = Run(std::string("routing: {always: [internal]}\n") + kEverything, 0.01,
                          nullptr, kSegments);
  // All internal traffic (2 %) plus 1 % of the rest.
  EXPECT_NEAR(Rate(r.segment_blast_requests[0], r.requests), 0.02, 0.003);
  EXPECT_NEAR(Rate(r.canary_requests, r.requests), 0.02 + 0.98 * 0.01, 0.004);
}

TEST_F(ModelTest, SharedComponentIncidentHitsBothVersionsAndIsNotTheCanarysFault) {
  const RunResult r = Run(R"(
topology:
  - {name: model}
  - {name: filter, after: [model], latency: 20ms, shared: true}
regressions: [{kind: errors, component: filter, added_error_rate: 10%}]
)");
  EXPECT_NEAR(Rate(totals_.baseline.errors, totals_.baseline.requests), 0.101, Tol(0.1, totals_.baseline.requests));
  EXPECT_NEAR(Rate(totals_.canary.errors, totals_.canary.requests), 0.101, Tol(0.1, totals_.canary.requests));
  EXPECT_FALSE(r.regression_active);
  EXPECT_EQ(r.blast_radius_requests, 0u);
}

TEST_F(ModelTest, TopologyLatencyAddsToTheRequest) {
  Run("topology: [{name: gateway, latency: 100ms}, {name: model, after: [gateway]}]\n");
  EXPECT_NEAR(totals_.baseline.ttft.quantile(0.5), 0.5, 0.5 * 0.02);
}

TEST_F(ModelTest, FixedPoolsCostTheirReplicaHours) {
  const std::string pool = "{iteration: {base: 30ms, per_prefill_token: 50us, per_decoding_sequence: 300us}, ";
  const RunResult r = Run("canary: {batching: " + pool + "replicas: 20}}\n", 0.5, nullptr, kTraffic,
                          "baseline: {batching: " + pool + "replicas: 40}, cost: {replica_hour: 10}}\n");
  EXPECT_DOUBLE_EQ(r.baseline_replica_seconds, 40 * 3600.0);
  EXPECT_DOUBLE_EQ(r.canary_replica_seconds, 20 * 3600.0);
  EXPECT_NEAR(r.canary_cost, 20 * 10, 1e-9);  // no token price: replica-hours only
}

TEST_F(ModelTest, CapacityLossFailsAdmissionsUnderLoad) {
  const std::string pool = "{iteration: {base: 30ms, per_prefill_token: 50us, per_decoding_sequence: 300us}, ";
  Run("canary: {batching: " + pool + "replicas: 4}}\n"
      "regressions: [{kind: capacity_loss, error_above_batch: 4}]\n",
      0.5, nullptr, kTraffic, "baseline: {batching: " + pool + "replicas: 4}}\n");
  // 50 requests/s on 4 replicas keeps batches above 4: many admissions fail.
  EXPECT_GT(Rate(totals_.canary.errors, totals_.canary.requests), 0.2);
  EXPECT_LT(Rate(totals_.baseline.errors, totals_.baseline.requests), 0.01);
}

TEST_F(ModelTest, AWeightOnsetStartsWhenTheWeightIsReached) {
  scenario_ = parse_scenario(ConfigMap::parse_string(std::string(
      "horizon: 2h\n") + kTraffic + kBaseline + R"(
regressions: [{kind: errors, added_error_rate: 20%, onset: {weight: 10%}}]
policy:
  kind: stepped
  steps: [1, 5, 10, 50]
  bake_time: 5m
  checks: [{metric: error_rate, max: 5%}]
)", "<t>"));
  Simulator sim(scenario_, *scenario_.policy);
  std::vector<TracePoint> trace;
  const RunResult r = sim.run(1, 0, &trace);
  double reached = -1;
  for (const TracePoint& p : trace)
    if (reached < 0 && p.weight >= 0.1) reached = p.time_s;
  ASSERT_EQ(r.outcome, Outcome::kRolledBack);
  EXPECT_TRUE(r.regression_active);
  EXPECT_DOUBLE_EQ(reached, 600);  // two 5-minute bakes
  EXPECT_DOUBLE_EQ(r.detection_time_s, r.decision_time_s - reached);
}

}  // namespace
}  // namespace canarysim
