// Scaled fidelity (sim/model/fidelity.h): what shrink() changes, what it refuses and
// warns about, how traffic is sampled by user, how monitoring scales counts back, and
// that a scaled study agrees with the exact one where the mode claims to hold.
#include "sim/model/fidelity.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "sim/io/config.h"
#include "tests/generate.h"
#include "sim/model/run.h"
#include "sim/model/scenario.h"
#include "sim/io/report.h"
#include "sim/study/convergence.h"
#include "sim/study/study.h"

namespace canarysim {
namespace {

Scenario Parse(const std::string& yaml) { return parse_scenario(ConfigMap::parse_string(yaml, "<test>")); }

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

bool Mentions(const std::vector<std::string>& lines, const std::string& text) {
  for (const std::string& l : lines)
    if (l.find(text) != std::string::npos) return true;
  return false;
}

const char* kIteration = "{base: 29.136ms, per_prefill_token: 0.0625892ms, per_decoding_sequence: 0.328252ms}";
// A check whose threshold one event in two requests breaches: it needs almost no
// evidence, so the sample is never capped for it.
const char* kLoose = "{kind: stepped, steps: [10, 50, 100], interval: 1m, checks: [{metric: error_rate, max: 50%}]}";
const char* kStepped =
    "{kind: stepped, steps: [10, 50, 100], bake_time: 5m, interval: 1m, failure_limit: 1, rollback_drain: 1m, "
    "checks: [{name: ttft, metric: ttft_p90, max_ratio: 1.3, min_samples: 200}, {name: errors, metric: error_rate, max: 2%}]}";

// 60 replicas of llama-2-70B (about 324 requests/s of this mix) at 180/s, and a canary
// whose iterations are 2.5 times slower: every rollout is rolled back, mostly at the
// 10 % step. (A regression near a check's threshold is where the modes part: a noisier
// estimate crosses it sooner. results/fidelity-modes.md measures that on the shipped
// scenarios.)
std::string Fleet(const std::string& fidelity, const std::string& extra = "", const std::string& policy = kStepped) {
  return "horizon: 40m\nincident_detection: 10m\n"
         "traffic: {rate: 180/s, users: 200000, prompt_tokens: {median: 800, p99: 6000}, "
         "output_tokens: {median: 150, p99: 900}}\n"
         "baseline:\n"
         "  batching: {iteration: " + std::string(kIteration) + ", replicas: 60, gpus: 8, max_batch: 128}\n"
         "  error_rate: 0.5%\n  timeout: 5m\n  cost: {replica_hour: 98.32}\n" + extra +
         "regressions:\n  - {name: slower, kind: latency, ttft_multiplier: 2.5, itl_multiplier: 2.5, onset: 0s}\n"
         "policy: " + policy + "\n" + fidelity;
}

TEST(FidelityTest, TheKeyAndTheOptionReadEveryForm) {
  EXPECT_FALSE(Parse(Fleet("")).fidelity.scaled);
  EXPECT_FALSE(Parse(Fleet("fidelity: exact\n")).fidelity.scaled);
  const Fidelity plain = Parse(Fleet("fidelity: scaled\n")).fidelity;
  EXPECT_TRUE(plain.scaled);
  EXPECT_EQ(plain.replicas, 40u);
  const Fidelity k = Parse(Fleet("fidelity: {mode: scaled, replicas: 8}\n")).fidelity;
  EXPECT_TRUE(k.scaled);
  EXPECT_EQ(k.replicas, 8u);
  EXPECT_NE(ErrorOf([] { Parse(Fleet("fidelity: {mode: fast}\n")); }).find("fidelity.mode: expected exact or scaled"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] { Parse(Fleet("fidelity: {replicas: 0}\n")); }).find("fidelity.replicas"), std::string::npos);
  EXPECT_NE(ErrorOf([] { Parse(Fleet("fidelity: {mode: scaled, k: 3}\n")); }).find("unknown key"), std::string::npos);
  EXPECT_EQ(plain.check_runs, 20u);
  EXPECT_EQ(Parse(Fleet("fidelity: {mode: scaled, check: 0}\n")).fidelity.check_runs, 0u);
  EXPECT_EQ(Parse(Fleet("fidelity: {mode: scaled, check: 50}\n")).fidelity.check_runs, 50u);
  for (const char* bad : {"-1", "2.5", "many", "2000000"})
    EXPECT_NE(ErrorOf([bad] { Parse(Fleet("fidelity: {mode: scaled, check: " + std::string(bad) + "}\n")); })
                  .find("fidelity.check"),
              std::string::npos)
        << bad;

  EXPECT_FALSE(Fidelity::from_option("exact").scaled);
  EXPECT_EQ(Fidelity::from_option("scaled").replicas, 40u);
  EXPECT_EQ(Fidelity::from_option("scaled:8").replicas, 8u);
  for (const char* bad : {"scaled:0", "scaled:", "scaled:x", "fast", "exact:3"})
    EXPECT_NE(ErrorOf([bad] { Fidelity::from_option(bad); }).find("--fidelity"), std::string::npos) << bad;
}

TEST(FidelityTest, ShrinkDividesRatesPoolsAndQueuesByTheSample) {
  const Scenario full = Parse(Fleet(
      "fidelity: {mode: scaled, replicas: 10}\n",
      "canary:\n  batching: {iteration: " + std::string(kIteration) +
          ", autoscale: {fleet: 60, min: 12, max: 60}, gpus: 8, max_batch: 128}\n  max_queue: 600\n",
      kLoose));
  std::vector<std::string> warnings;
  const Scenario s = shrink(full, *full.policy, &warnings);
  EXPECT_EQ(s.fidelity.sample, 6u);  // 60 replicas / 10
  EXPECT_EQ(s.telemetry.count_scale, 6u);
  EXPECT_EQ(s.traffic.sample, 6u);
  EXPECT_DOUBLE_EQ(s.traffic.rate_per_s, 30);
  EXPECT_EQ(s.baseline.serving.batching.replicas, 10u);
  EXPECT_EQ(s.canary.serving.batching.autoscale.fleet, 10u);
  EXPECT_EQ(s.canary.serving.batching.autoscale.min, 2u);  // 12 / 6
  EXPECT_EQ(s.canary.serving.batching.autoscale.max, 10u);
  EXPECT_EQ(s.canary.serving.batching.max_queue, 100u);
  EXPECT_EQ(s.traffic.users, full.traffic.users);  // ids stay in the full population
  // w moves within a quarter of N / K to divide the pools evenly: 64 and 32 asked at 20
  // (3.2) give 4, so no pool is off by rounding.
  const Scenario even = Parse(Fleet("fidelity: {mode: scaled, replicas: 20}\n",
                                    "canary:\n  batching: {iteration: " + std::string(kIteration) +
                                        ", replicas: 32, gpus: 8}\n",
                                    kLoose));
  Scenario even64 = even;
  even64.baseline.serving.batching.replicas = 64;
  const Scenario e = shrink(even64, *even64.policy);
  EXPECT_EQ(e.fidelity.sample, 4u);
  EXPECT_EQ(e.baseline.serving.batching.replicas, 16u);
  EXPECT_EQ(e.canary.serving.batching.replicas, 8u);
  // An exact scenario comes back as it was.
  const Scenario exact = Parse(Fleet(""));
  EXPECT_EQ(shrink(exact, *exact.policy).fidelity.sample, 1u);
  EXPECT_EQ(shrink(exact, *exact.policy).baseline.serving.batching.replicas, 60u);
}

TEST(FidelityTest, WhereScalingCannotHoldItIsRefusedByName) {
  // A policy that weighs evidence by counts: named, with its kind.
  const Scenario seq = Parse(Fleet("fidelity: scaled\n", "",
                                   "{kind: sequential, tests: [error_rate], steps: [10, 50], interval: 1m}"));
  const std::string e = ErrorOf([&] { shrink(seq, *seq.policy); });
  EXPECT_NE(e.find("<test>: fidelity: scaled: the sequential policy weighs evidence by request counts"), std::string::npos) << e;
  EXPECT_NE(e.find("fidelity: exact"), std::string::npos);
  // A composite says which child.
  const Scenario comp = Parse(Fleet("fidelity: scaled\n", "",
                                    "{kind: composite, policies: [" + std::string(kStepped) +
                                        ", {kind: cusum, steps: [10, 50], interval: 1m, metric: error_rate}]}"));
  EXPECT_NE(ErrorOf([&] { shrink(comp, *comp.policy); }).find("cusum child"), std::string::npos);
  // No batched pool.
  const Scenario sampled = Parse("traffic: {rate: 100/s}\npolicy: " + std::string(kStepped) + "\nfidelity: scaled\n");
  EXPECT_NE(ErrorOf([&] { shrink(sampled, *sampled.policy); }).find("no batched pool to shrink"), std::string::npos);
  // Too few users in the sample: 3,000 users at 1 in 6 leaves 500.
  Scenario few = Parse(Fleet("fidelity: {mode: scaled, replicas: 10}\n", "", kLoose));
  few.traffic.users = 3000;
  EXPECT_NE(ErrorOf([&] { shrink(few, *few.policy); }).find("leaves about 500 users"), std::string::npos);
  // The Simulator refuses the same way (every command and Python go through it).
  EXPECT_NE(ErrorOf([&] { Simulator sim(seq, *seq.policy); }).find("weighs evidence"), std::string::npos);
}

TEST(FidelityTest, WhatItDoubtsIsWarnedWithTheFigures) {
  // A canary pool of 6 becomes 1 at 1 in 6; a 1.1 Zipf skew puts one user's share of the
  // sample far above 5 %.
  Scenario s = Parse(Fleet("fidelity: {mode: scaled, replicas: 10}\n",
                           "canary:\n  batching: {iteration: " + std::string(kIteration) +
                               ", replicas: 6, gpus: 8, max_batch: 128}\n",
                           kLoose));
  s.traffic.user_skew = 1.1;
  std::vector<std::string> w;
  shrink(s, *s.policy, &w);
  EXPECT_TRUE(Mentions(w, "canary replicas: 6 replicas become 1 at 1 in 6: a pool of one queues differently"));
  EXPECT_TRUE(Mentions(w, "traffic.user_skew 1.1 gives the most active user"));
  // A judgement the sample would leave thin lowers w: the 10 % step's 60 s window holds
  // 1,080 requests at 180/s, the ttft check needs 200, so at most 1 in 5.
  const Scenario thin = Parse(Fleet("fidelity: {mode: scaled, replicas: 10}\n"));
  std::vector<std::string> w3;
  EXPECT_EQ(shrink(thin, *thin.policy, &w3).fidelity.sample, 5u);
  EXPECT_TRUE(Mentions(w3, "1 user in 6 would leave checks[0] (ttft) about 180 requests a window at the first canary "
                           "share (10 %), where it needs 200 (min_samples 200): at most 1 in 5"));
  // ... and to exact where one event breaches: a 1 % step at 20/s.
  Scenario thinner = Parse(Fleet("fidelity: {mode: scaled, replicas: 10}\n", "",
                                 "{kind: stepped, steps: [1, 50], interval: 1m, checks: [{metric: error_rate, max: 2%}]}"));
  thinner.traffic.rate_per_s = 20;
  std::vector<std::string> w4;
  EXPECT_EQ(shrink(thinner, *thinner.policy, &w4).fidelity.sample, 1u);
  EXPECT_TRUE(Mentions(w4, ": simulated exact"));
  // A largest pool no bigger than asked: said, and simulated exact.
  Scenario small = Parse(Fleet("fidelity: {mode: scaled, replicas: 100}\n"));
  std::vector<std::string> w2;
  EXPECT_EQ(shrink(small, *small.policy, &w2).fidelity.sample, 1u);
  EXPECT_TRUE(Mentions(w2, "simulated exact"));
}


TEST(FidelityTest, TrafficIsSampledByUserAtTheDividedRate) {
  for (const double skew : {0.0, 0.8}) {
    TrafficSpec spec;
    spec.rate_per_s = 500.0 / 5;  // 500/s divided by the sample
    spec.users = 100000;
    spec.user_skew = skew;
    spec.sample = 5;
    std::set<uint64_t> offsets;
    for (uint64_t run = 0; run < 40; ++run) {
      const std::vector<Request> r = Generate(spec, 60, 1, run);
      // Poisson: 6,000 expected in a minute, sd 77.
      EXPECT_NEAR(static_cast<double>(r.size()), 6000, 5 * 77);
      const uint64_t offset = r.front().user % 5;
      offsets.insert(offset);
      for (const Request& q : r) ASSERT_EQ(q.user % 5, offset) << "run " << run;
    }
    EXPECT_EQ(offsets.size(), 5u);  // every residue is drawn in some run (40 runs: all but surely)
  }
  // Under skew, the sampled users keep their relative activity: user ranks 0 and 5 (both
  // in residue 0) send in the ratio (6/1)^0.8 = 4.19.
  TrafficSpec spec;
  spec.rate_per_s = 100;
  spec.users = 100000;
  spec.user_skew = 0.8;
  spec.sample = 5;
  std::map<uint64_t, double> count;
  uint64_t runs_with_zero = 0;
  for (uint64_t run = 0; run < 40; ++run) {
    const std::vector<Request> r = Generate(spec, 600, 2, run);
    if (r.front().user % 5 != 0) continue;
    ++runs_with_zero;
    for (const Request& q : r) count[q.user] += 1;
  }
  ASSERT_GT(runs_with_zero, 0u);
  // Counts in the thousands: a ratio within 5 %.
  EXPECT_NEAR(count[0] / count[5], std::pow(6.0, 0.8), 0.05 * std::pow(6.0, 0.8));
}

TEST(FidelityTest, ATraceKeepsTheRowsOfTheSampledUsers) {
  const std::string path = ::testing::TempDir() + "fidelity-users.csv";
  {
    std::ofstream f(path);
    f << "time,prompt_tokens,output_tokens,user\n";
    for (int i = 0; i < 4000; ++i) f << i * 0.1 << ",100,10,u" << i % 400 << "\n";
  }
  TrafficSpec spec = TrafficSpec::parse(ConfigMap::parse_string(
      "trace: {file: " + path + ", loop: false, columns: {user: user}}\nusers: 1000\n", "<test>"));
  spec.sample = 4;
  uint64_t kept = 0;
  for (uint64_t run = 0; run < 8; ++run) {
    const std::vector<Request> r = Generate(spec, 1e9, 1, run);
    std::map<uint64_t, int> per_user;
    for (const Request& q : r) ++per_user[q.user];
    for (const auto& [user, n] : per_user) {
      EXPECT_EQ(user % 4, r.front().user % 4);
      EXPECT_EQ(n % 10, 0);  // a sampled user keeps every one of their rows (ids may be shared)
    }
    kept += r.size();
  }
  // 400 users hashed into 1,000 ids: a residue holds about a quarter of them.
  EXPECT_NEAR(static_cast<double>(kept) / 8, 1000, 250);
}

TEST(FidelityTest, MonitoringScalesCountsBackButNotGoldenSets) {
  TelemetryOptions o;
  o.window_s = 10;
  o.scrape_delay_s = 0;
  o.count_scale = 4;
  Telemetry t(o, 60, 600);
  Completion ok;
  ok.ttft = 0.5;
  ok.itl = 0.03;
  ok.latency = 5;
  ok.prompt_tokens = 100;
  ok.output_tokens = 10;
  Completion bad = ok;
  bad.error = true;
  bad.failure = Failure::kTimeout;
  for (int i = 0; i < 9; ++i) t.record(Version::kCanary, 1, 2, ok);
  t.record(Version::kCanary, 1, 2, bad);
  t.record_golden(Version::kCanary, 3, 0.9);
  const WindowStats s = t.read(Version::kCanary, 10, 10);
  EXPECT_EQ(s.requests, 40u);
  EXPECT_EQ(s.errors, 4u);
  EXPECT_EQ(s.timeouts, 4u);
  EXPECT_DOUBLE_EQ(s.error_rate(), 0.1);  // ratios are the sample's
  EXPECT_EQ(s.ttft.count(), 36u);
  EXPECT_NEAR(s.ttft.quantile(0.9), 0.5, 0.005);
  EXPECT_DOUBLE_EQ(s.prompt_tokens, 4000);
  EXPECT_EQ(s.golden, 1u);  // a fixed prompt set is not a sample of users
}

// The claim of the mode, pinned on a cheap case: 60 replicas simulated as 12 (1 user in
// 5, as many as its ttft check's window allows). 300 runs each, the same seeds. Every run rolls back in both modes. Tolerances are
// four standard errors of the difference of two independent means (the modes draw
// different users, so their runs are independent): detection-time sd about 1.4 min
// (steps a minute apart), so 4 x 1.4 x sqrt(2/300) = 0.46 min; blast-radius sd about
// 4,500 requests, so 4 x 4,500 x sqrt(2/300) = 1,470; GPU-hours follow the outcome
// times the fleet, sd about 20, so 6.5.
TEST(FidelityTest, AScaledStudyAgreesWithTheExactOneOnABatchedFleet) {
  const Scenario exact = Parse(Fleet(""));
  const Scenario scaled = Parse(Fleet("fidelity: {mode: scaled, replicas: 10}\n"));
  StudyOptions o;
  o.runs = 300;
  o.seed = 7;
  const Study a = run_study(exact, o), b = run_study(scaled, o);
  const Summary &x = a.summary, &y = b.summary;
  std::printf("exact: detection mean %.2f min, blast radius mean %.0f requests %.0f users, GPU-hours %.1f, %.2f s\n",
              x.detection_time_s.mean / 60, x.blast_radius_requests.mean, x.blast_radius_users.mean, x.gpu_hours.mean,
              x.wall_s);
  std::printf("scaled: detection mean %.2f min, blast radius mean %.0f requests %.0f users, GPU-hours %.1f, %.2f s\n",
              y.detection_time_s.mean / 60, y.blast_radius_requests.mean, y.blast_radius_users.mean, y.gpu_hours.mean,
              y.wall_s);
  EXPECT_EQ(x.rolled_back, 300u);
  EXPECT_EQ(y.rolled_back, 300u);
  EXPECT_NEAR(y.detection_time_s.mean / 60, x.detection_time_s.mean / 60, 0.46);
  EXPECT_NEAR(y.blast_radius_requests.mean, x.blast_radius_requests.mean, 1470);
  EXPECT_NEAR(y.blast_radius_users.mean / y.blast_radius_requests.mean,
              x.blast_radius_users.mean / x.blast_radius_requests.mean, 0.03);
  EXPECT_NEAR(y.gpu_hours.mean, x.gpu_hours.mean, 6.5);
  // Requests are scaled back to the full fleet's: 180/s over the run (about 9,000 sampled: sd 1 %).
  EXPECT_NEAR(static_cast<double>(b.runs[0].requests) / 180 / b.runs[0].rollout_duration_s, 1, 0.045);
  EXPECT_LT(b.summary.events * 4, a.summary.events);  // the point of it
  // Deterministic whatever the threads.
  StudyOptions one = o;
  one.runs = 40;
  one.threads = 1;
  StudyOptions two = one;
  two.threads = 2;
  EXPECT_EQ(results_hash(run_study(scaled, one).runs), results_hash(run_study(scaled, two).runs));
}

// The convergence check (sim/study/convergence.h) on the two sides of the mode's claim.
// Where it holds (the fleet above, a regression far past its threshold, 1 user in 5), 20
// runs at 4x the replicas agree with the study. Where it does not (a TTFT regression of
// x1.4 judged against max_ratio 1.3 from 1 user in 20: the p90 of a thin sample crosses
// the threshold sooner, so detection comes early and the blast radius is understated,
// 12,600 requests against the exact runs' 22,600), the check sees the figures move and
// says what to run instead. Seeds are fixed, so each verdict is deterministic; the printed
// differences in standard errors show how far each is from the rule's edge (4).
TEST(FidelityTest, TheConvergenceCheckSaysWhenScaledFiguresMoveWithTheSample) {
  auto check = [](const std::string& yaml, uint64_t runs) {
    const Scenario s = Parse(yaml);
    StudyOptions o;
    o.runs = runs;
    o.seed = 3;
    const Study study = run_study(s, o);
    EXPECT_TRUE(wants_convergence_check(s, study));
    const Convergence c = check_convergence(s, study, o, s.fidelity.check_runs);
    for (const Convergence::Figure& f : c.figures)
      std::printf("1 in %u vs 1 in %u: %-30s %12.1f %12.1f  %5.1f SE%s\n", c.sample, c.finer_sample, f.name.c_str(),
                  f.value, f.finer, f.se > 0 ? std::abs(f.value - f.finer) / f.se : 0.0, f.moved ? "  moved" : "");
    return c;
  };
  const Convergence holds = check(Fleet("fidelity: {mode: scaled, replicas: 10}\n"), 100);
  EXPECT_EQ(holds.sample, 5u);  // as many as the ttft check's min_samples allows
  EXPECT_LT(holds.finer_sample, holds.sample);
  EXPECT_EQ(holds.finer_runs, 20u);
  EXPECT_FALSE(holds.moved()) << convergence_text(holds);
  EXPECT_GE(holds.figures.size(), 6u);  // shares, detection, blast radius, failures, cost
  EXPECT_NE(convergence_text(holds).find("agree with the study at 1 in 5"), std::string::npos) << convergence_text(holds);

  const std::string near =
      "{kind: stepped, steps: [10, 50, 100], bake_time: 5m, interval: 1m, failure_limit: 1, rollback_drain: 1m, "
      "checks: [{name: ttft, metric: ttft_p90, max_ratio: 1.3}, {name: errors, metric: error_rate, max: 2%}]}";
  std::string yaml = Fleet("fidelity: {mode: scaled, replicas: 3}\n", "", near);
  yaml.replace(yaml.find("ttft_multiplier: 2.5, itl_multiplier: 2.5"), 41, "ttft_multiplier: 1.4, itl_multiplier: 1.4");
  const Convergence moves = check(yaml, 100);
  EXPECT_EQ(moves.sample, 20u);
  EXPECT_EQ(moves.finer_sample, 6u);
  EXPECT_TRUE(moves.moved());
  bool blast_moved = false;
  for (const Convergence::Figure& f : moves.figures)
    if (f.name == "blast radius (requests) mean") blast_moved = f.moved && f.finer > f.value;  // understated
  EXPECT_TRUE(blast_moved);
  EXPECT_NE(convergence_text(moves).find("not converged"), std::string::npos);
  EXPECT_NE(convergence_text(moves).find("--fidelity scaled:12"), std::string::npos) << convergence_text(moves);

  // Off, or nothing to check: an exact study, or one that shrink() ran exact.
  Scenario off = Parse(Fleet("fidelity: {mode: scaled, replicas: 10, check: 0}\n"));
  StudyOptions o;
  o.runs = 4;
  EXPECT_FALSE(wants_convergence_check(off, run_study(off, o)));
  const Scenario exact = Parse(Fleet(""));
  EXPECT_FALSE(wants_convergence_check(exact, run_study(exact, o)));
  const Scenario whole = Parse(Fleet("fidelity: {mode: scaled, replicas: 60}\n"));
  EXPECT_FALSE(wants_convergence_check(whole, run_study(whole, o)));
}

}  // namespace
}  // namespace canarysim
