// Fleets under load, end to end: overload that shows, capacity checks, replicas that
// move with the rollout, and the outcomes an SRE counts (failed requests, GPU-hours,
// exposure after a missed regression).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "policies/policy.h"
#include "sim/io/config.h"
#include "sim/model/capacity.h"
#include "sim/model/run.h"
#include "sim/model/scenario.h"
#include "sim/study/study.h"

namespace canarysim {
namespace {

Scenario Parse(const std::string& yaml) { return parse_scenario(ConfigMap::parse_string(yaml, "<test>")); }

Study RunStudy(const Scenario& s, uint64_t runs, uint64_t seed = 1) {
  StudyOptions o;
  o.runs = runs;
  o.seed = seed;
  return run_study(s, o);
}

// llama-2-70B on 8 x H100 (scenarios/profiles/llama2-70b-h100-tp8.yaml) with the default
// token mix: one replica carries about 4.3 requests/s (see replica_capacity).
const char* kIteration = "{base: 29.136ms, per_prefill_token: 0.0625892ms, per_decoding_sequence: 0.328252ms}";

std::string Fleet(const std::string& rate, const std::string& replicas, const std::string& version_extra,
                  const std::string& policy = "{kind: stepped, steps: [10, 50], bake_time: 3m, interval: 1m, "
                                              "checks: [{metric: error_rate, max: 5%}]}") {
  return "horizon: 10m\n"
         "traffic: {rate: " + rate + ", prompt_tokens: {median: 800, p99: 6000}, output_tokens: {median: 150, p99: 900}}\n"
         "baseline:\n"
         "  batching: {iteration: " + kIteration + ", replicas: " + replicas + ", gpus: 8}\n"
         "  error_rate: 0.5%\n" + version_extra +
         "policy: " + policy + "\n";
}

TEST(FleetTest, AnOverloadedFleetFailsRequestsAndValidateSaysSo) {
  // 300 requests/s on 20 replicas (about 86/s): 350 % of capacity. With a 60 s timeout
  // and a queue bounded at 2,000, most requests time out or are rejected, and the
  // error rate monitoring sees is far above the model's 0.5 %.
  const Scenario s = Parse(Fleet("300/s", "20", "  timeout: 60s\n  max_queue: 2000\n"));
  const Study st = RunStudy(s, 2);
  for (const RunResult& r : st.runs) {
    const double failed = static_cast<double>(r.failed_requests) / static_cast<double>(r.requests);
    std::printf("overloaded: %.1f %% failed (%llu timed out, %llu rejected) in %.0f s\n", 100 * failed,
                static_cast<unsigned long long>(r.timed_out_requests), static_cast<unsigned long long>(r.rejected_requests),
                r.rollout_duration_s);
    // What the fleet cannot have served: all requests but its two pools' ceiling (5 %
    // above the estimate, baseline and canary of 20 replicas each) over the run, and
    // each pool's queue of 2,000 and 20 x 64 sequences in flight.
    const double served_at_most = 1.05 * 2 * 86.3 * r.rollout_duration_s + 2 * (2000 + 20 * 64);
    EXPECT_GE(static_cast<double>(r.failed_requests), static_cast<double>(r.requests) - served_at_most);
    EXPECT_GT(failed, 0.3);
    EXPECT_GT(r.timed_out_requests, 0u);
    EXPECT_GT(r.rejected_requests, 0u);
    EXPECT_EQ(r.outcome, Outcome::kRolledBack);  // the canary's errors breach 5 %
  }
  const auto warnings = capacity_warnings(s, s.policy.get());
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("baseline: 20 replicas carry about 86"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("cannot carry the peak"), std::string::npos) << warnings[0];
}

TEST(FleetTest, AFleetSizedAutoCarriesThePeakAtItsTargetUtilization) {
  const Scenario s = Parse(Fleet("300/s", "auto", "", "{kind: stepped, steps: [10], checks: [{metric: error_rate, max: 5%}]}"));
  const TokenMix mix = token_mix(s.traffic, s.baseline);
  const double per_replica = replica_capacity(s.baseline.serving.batching, mix.prefill, mix.context, mix.output);
  EXPECT_EQ(s.baseline.serving.batching.replicas, static_cast<uint32_t>(std::ceil(300 / (0.7 * per_replica))));
  EXPECT_NEAR(pool_loads(s, s.policy.get())[0].utilization(), 0.70, 0.01);
  EXPECT_TRUE(capacity_warnings(s, s.policy.get()).empty());
}

TEST(FleetTest, CapacityMatchesTheHandComputedCeiling) {
  // X = n / (O (b0 + b2 n) + b1 P n) at n = 64 with P = 800 e^(s^2/2), s = ln(7.5)/2.3263.
  const Scenario s = Parse(Fleet("100/s", "10", ""));
  const double sp = std::log(7.5) / 2.3263478740, so = std::log(6.0) / 2.3263478740;
  const double P = 800 * std::exp(sp * sp / 2), O = 150 * std::exp(so * so / 2);
  const double X = 64 / (O * (0.029136 + 0.000328252 * 64) + 0.0000625892 * P * 64);
  const auto loads = pool_loads(s, s.policy.get());
  ASSERT_EQ(loads.size(), 2u);
  EXPECT_NEAR(loads[0].per_replica, X, 1e-9 * X);
  EXPECT_NEAR(loads[0].offered(), 100, 1e-9);
  EXPECT_NEAR(loads[1].share, 0.5, 1e-12);  // the policy's largest step below 100
}

TEST(FleetTest, PeakRateIsTheCrestWithinTheHorizon) {
  TrafficSpec t;
  t.rate_per_s = 1000;
  t.diurnal_amplitude = 0.5;
  t.diurnal_period_s = 86400;
  t.diurnal_peak_s = 14 * 3600;
  EXPECT_NEAR(peak_rate(t, 24 * 3600), 1500, 1e-6);
  EXPECT_NEAR(peak_rate(t, 3600), t.rate_at(0), 1e-6);  // the first hour falls towards the trough at 2h
  t.diurnal_amplitude = 0;
  t.schedule = {{0, 100}, {600, 900}, {1200, 200}};
  EXPECT_NEAR(peak_rate(t, 3600), 900, 1e-9);
  EXPECT_NEAR(peak_rate(t, 300), 100, 1e-9);
}

TEST(FleetTest, GpuHoursAreReplicaHoursTimesGpusPerReplica) {
  const Scenario s = Parse(Fleet("20/s", "10", ""));
  for (const RunResult& r : RunStudy(s, 3).runs)
    EXPECT_NEAR(r.gpu_hours, (r.baseline_replica_seconds + r.canary_replica_seconds) * 8 / 3600, 1e-9);
}

// A sampled fleet for rollout mechanics: 20 replicas, 5 minutes to start one.
std::string Sampled(const std::string& policy, const std::string& regression, const std::string& extra = "") {
  return "horizon: 2h\n" + extra +
         "traffic: {rate: 50/s, users: 5000}\n"
         "baseline: {ttft: {median: 400ms, p99: 1.5s}, error_rate: 0.1%, replicas: 20, startup: 5m,\n"
         "           cost: {replica_hour: 10}}\n"
         "regressions: [" + regression + "]\n"
         "policy: " + policy + "\n";
}

TEST(FleetTest, ABigBangRollsBackByRedeployingTheOldFleet) {
  // Replaced in place (stable_scale: dynamic at 100 %): after the rollback decision, the
  // old fleet's replicas start again (5 minutes) before traffic moves back.
  const std::string policy = "{kind: stepped, steps: [100], bake_time: 0s, final_bake: 30m, interval: 1m, "
                             "rollback_drain: 0s, checks: [{metric: error_rate, max: 1%}], deployment: {stable_scale: dynamic}}";
  const Study st = RunStudy(Parse(Sampled(policy, "{kind: errors, onset: 5m, error_rate: 5%}")), 20);
  for (const RunResult& r : st.runs) {
    ASSERT_EQ(r.outcome, Outcome::kRolledBack);
    EXPECT_NEAR(r.rollout_duration_s - r.decision_time_s, 300, 1e-6);
    EXPECT_NEAR(r.time_to_mitigate_s, r.detection_time_s + 300, 1e-6);
  }
  // The same policy with the stable fleet kept (a switch): mitigation at the decision.
  const std::string kept = "{kind: stepped, steps: [100], bake_time: 0s, final_bake: 30m, interval: 1m, "
                           "rollback_drain: 0s, checks: [{metric: error_rate, max: 1%}]}";
  for (const RunResult& r : RunStudy(Parse(Sampled(kept, "{kind: errors, onset: 5m, error_rate: 5%}")), 20).runs)
    EXPECT_NEAR(r.rollout_duration_s, r.decision_time_s, 1e-6);
}

TEST(FleetTest, ABigBangOnABatchedFleetStartsTheOldPoolAgainBeforeMovingTraffic) {
  // The old pool of 10 replicas is gone at 100 % (no replica-seconds while the canary
  // serves alone); the rollback starts all 10 (2 minutes each) and only then drains.
  const std::string policy = "{kind: stepped, steps: [100], bake_time: 0s, final_bake: 30m, interval: 1m, "
                             "rollback_drain: 0s, checks: [{metric: error_rate, max: 2%}], "
                             "deployment: {stable_scale: dynamic}}";
  const Scenario s = Parse("horizon: 1h\ntraffic: {rate: 10/s, prompt_tokens: 500, output_tokens: 50}\n"
                           "baseline:\n  batching: {iteration: " + std::string(kIteration) + ", replicas: 10}\n"
                           "  startup: 2m\n  error_rate: 0.1%\n"
                           "regressions: [{kind: errors, onset: 3m, error_rate: 20%}]\n"
                           "policy: " + policy + "\n");
  for (const RunResult& r : RunStudy(s, 3).runs) {
    ASSERT_EQ(r.outcome, Outcome::kRolledBack);
    EXPECT_NEAR(r.rollout_duration_s - r.decision_time_s, 120, 1e-6);
    EXPECT_NEAR(r.baseline_replica_seconds, 10 * 120, 1e-6);  // only the restart
  }
}

TEST(FleetTest, FleetCostsFollowTheDeployment) {
  // Good release, promoted after 30 minutes at 100 %: replaced in place, one fleet is paid
  // for; blue-green's standby doubles it; a plain canary keeps the stable fleet whole.
  auto cost = [](const std::string& deployment) {
    const std::string policy = "{kind: stepped, steps: [100], bake_time: 0s, final_bake: 30m, interval: 1m, "
                               "checks: [{metric: error_rate, max: 1%}], deployment: " + deployment + "}";
    const Study st = RunStudy(Parse(Sampled(policy, "")), 3);
    for (const RunResult& r : st.runs) EXPECT_EQ(r.outcome, Outcome::kPromoted);
    EXPECT_NEAR(st.runs[0].rollout_duration_s, 31 * 60, 1e-6);  // the first tick, then 30 minutes
    return st.runs[0].baseline_cost + st.runs[0].canary_cost;
  };
  const double fleet = 20 * 10 * 31.0 / 60;  // replicas x price x hours
  EXPECT_NEAR(cost("{stable_scale: dynamic}"), fleet, 1e-6);
  EXPECT_NEAR(cost("{canary_scale: full}"), 2 * fleet, 1e-6);
  EXPECT_NEAR(cost("{}"), 2 * fleet, 1e-6);  // at 100 % the canary is a whole fleet too
}

TEST(FleetTest, PrescaleShiftsTrafficOnlyOnceTheCanaryReplicasServe) {
  const std::string policy = "{kind: stepped, steps: [10, 50], bake_time: 10m, interval: 1m, "
                             "checks: [{metric: error_rate, max: 1%}], deployment: {prescale: true}}";
  const Scenario s = Parse(Sampled(policy, ""));
  Simulator sim(s, *s.policy);
  std::vector<TracePoint> trace;
  sim.run(1, 0, &trace);
  double asked = -1, shifted = -1;
  for (const TracePoint& p : trace) {
    if (p.action == "set_weight" && p.reason != "prescaled canary ready" && p.time_s > 0 && asked < 0) asked = p.time_s;
    if (p.reason == "prescaled canary ready") shifted = p.time_s;
  }
  ASSERT_GT(asked, 0);
  EXPECT_NEAR(shifted - asked, 300, 1e-6);  // the canary's startup
}

TEST(FleetTest, AMissedRegressionKeepsExposingUsersUntilItIsNoticed) {
  // A quality regression the policy does not check is promoted; after promotion every
  // request meets it, until incident_detection (10 minutes): 50/s x 600 s = 30,000 more
  // requests (Poisson: sd 173, so 3 % is over 8 sd).
  const std::string policy = "{kind: stepped, steps: [100], bake_time: 0s, final_bake: 10m, interval: 1m, "
                             "checks: [{metric: error_rate, max: 5%}]}";
  const std::string regression = "{kind: quality, onset: 0s, quality_drop: 0.2}";
  const Study none = RunStudy(Parse(Sampled(policy, regression, "incident_detection: 0s\n")), 5);
  const Study ten = RunStudy(Parse(Sampled(policy, regression, "incident_detection: 10m\n")), 5);
  for (size_t i = 0; i < 5; ++i) {
    ASSERT_EQ(ten.runs[i].outcome, Outcome::kPromoted);
    EXPECT_TRUE(ten.runs[i].regression_active);
    const double extra = static_cast<double>(ten.runs[i].blast_radius_requests - none.runs[i].blast_radius_requests);
    EXPECT_NEAR(extra / 30000, 1.0, 0.03);
    EXPECT_EQ(ten.runs[i].requests, none.runs[i].requests);  // the rollout itself is the same
  }
}

TEST(FleetTest, SampledTimeoutsAndPatienceFailTheSlowRequests) {
  // Every request takes 1 s to its first token and 0.1 s per token after, 100 tokens:
  // 10.9 s. A 5 s timeout fails them all; patience of 0.5 s abandons them all first.
  auto failures = [](const std::string& keys) {
    const Scenario s = Parse("horizon: 10m\ntraffic: {rate: 10/s, output_tokens: 100}\n"
                             "baseline: {ttft: 1s, inter_token: 100ms, error_rate: 0, " + keys + "}\n"
                             "policy: {kind: stepped, steps: [10], bake_time: 5m, checks: [{metric: latency_p50, max: 1h}]}\n");
    return RunStudy(s, 1).runs[0];
  };
  const RunResult t = failures("timeout: 5s");
  EXPECT_EQ(t.timed_out_requests, t.requests);
  const RunResult a = failures("timeout: 5s, patience: 500ms");
  EXPECT_EQ(a.abandoned_requests, a.requests);
  const RunResult ok = failures("timeout: 20s");
  EXPECT_EQ(ok.failed_requests, 0u);
}

TEST(FleetTest, APrefixCacheRegressionSlowsPrefillAndCutsCapacity) {
  // Prompts of 4,000 tokens, 75 % of them cached on both versions; the canary loses its
  // hits (hit_multiplier 0): it prefills four times as many tokens, so its TTFT rises and
  // a replica carries fewer requests.
  const std::string yaml =
      "horizon: 10m\ntraffic: {rate: 20/s, prompt_tokens: 4000, output_tokens: 50}\n"
      "baseline:\n  batching: {iteration: {base: 20ms, per_prefill_token: 0.1ms, per_decoding_sequence: 0.3ms}, replicas: 8}\n"
      "  prefix_cache: 75%\n"
      "regressions: [{kind: prefix_cache, hit_multiplier: 0}]\n"
      "policy: {kind: stepped, steps: [50], bake_time: 1h, checks: [{metric: error_rate, max: 50%}]}\n";
  const Scenario s = Parse(yaml);
  const TokenMix mix = token_mix(s.traffic, s.baseline);
  EXPECT_NEAR(mix.prefill, 1000, 1e-9);
  EXPECT_NEAR(mix.context, 4000, 1e-9);
  Simulator sim(s, *s.policy);
  std::vector<TracePoint> trace;
  sim.run(1, 0, &trace);
  ASSERT_GE(trace.size(), 5u);
  const TracePoint& p = trace[4];
  // Unloaded prefill: 20 ms + 1,000 x 0.1 ms = 120 ms against 20 ms + 4,000 x 0.1 ms = 420 ms.
  EXPECT_GT(p.canary.ttft_p50_s, 3 * p.baseline.ttft_p50_s) << p.canary.ttft_p50_s << " " << p.baseline.ttft_p50_s;
}

TEST(FleetTest, AKvFootprintRegressionShowsAsPreemptionsThatAPolicyCanCheck) {
  // 40 sequences of about 300 tokens fit a 20,000-token cache with room to spare; four
  // times the footprint per token does not: the canary preempts, the baseline never.
  const Scenario s = Parse(
      "horizon: 20m\ntraffic: {rate: 40/s, prompt_tokens: 200, output_tokens: 100}\n"
      "baseline:\n  batching: {iteration: {base: 20ms, per_prefill_token: 0.01ms, per_decoding_sequence: 0.2ms},"
      " replicas: 2, max_batch: 64, kv_cache: {tokens: 20000}}\n"
      "regressions: [{kind: kv_footprint, multiplier: 4}]\n"
      "policy: {kind: stepped, steps: [50], bake_time: 10m, checks: [{metric: preemption_count, max: 0}]}\n");
  for (const RunResult& r : RunStudy(s, 2).runs) {
    EXPECT_EQ(r.outcome, Outcome::kRolledBack);
    EXPECT_GT(r.preemptions, 0u);
    EXPECT_NE(r.reason.find("preemption_count"), std::string::npos) << r.reason;
  }
  Scenario healthy = s;
  healthy.regressions.clear();
  for (const RunResult& r : RunStudy(healthy, 2).runs) EXPECT_EQ(r.preemptions, 0u);
}

TEST(FleetTest, TheProductionScenarioIsSizedForItsPeakAndItsSlowCanaryBitesAtTwentyFivePercent) {
  const Scenario s = load_scenario(std::string(CANARYSIM_SOURCE_DIR) + "/scenarios/production.yaml");
  const auto loads = pool_loads(s, s.policy.get());
  ASSERT_EQ(loads.size(), 2u);
  EXPECT_NEAR(loads[0].peak_rate, 1050 * 1.43, 1);  // the diurnal crest, an hour in
  EXPECT_NEAR(loads[0].utilization(), 0.70, 0.01);  // fleet: auto at target_utilization
  EXPECT_TRUE(capacity_warnings(s, s.policy.get()).empty());
  // At 5 % (a 40-replica floor) the 45 % slower canary passes; at 25 %, prescaled and
  // serving from 21 minutes, its queue grows and the TTFT ratio check rolls it back.
  for (const RunResult& r : RunStudy(s, 2).runs) {
    EXPECT_EQ(r.outcome, Outcome::kRolledBack);
    EXPECT_TRUE(r.regression_active);
    EXPECT_GT(r.decision_time_s, 21 * 60);
    EXPECT_LT(r.decision_time_s, 30 * 60);
  }
}

}  // namespace
}  // namespace canarysim
