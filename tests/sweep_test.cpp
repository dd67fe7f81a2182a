// Sweeps, the results store, tuning and power: the parts below the CLI. The crash, shard,
// Slurm and Dask tests run the real processes (tests/python/test_sweep.py, test_slurm.py).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "sim/study/check.h"
#include "sim/io/config.h"
#include "sim/study/power.h"
#include "sim/study/store.h"
#include "sim/study/sweep.h"
#include "sim/study/tune.h"

namespace canarysim {
namespace {

class SweepTest : public ::testing::Test {
 protected:
  void SetUp() override { std::filesystem::current_path(CANARYSIM_SOURCE_DIR); }
  std::string scratch(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / ("canarysim-sweep-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = dir / name;
    std::filesystem::remove(path);
    return path.string();
  }
};

// A sweep, tuning or power study of a scenario that `extends` another in another folder:
// the base's relative paths (error-spike's policy, production's profile) stay the base's
// through overrides, as they do when the file is loaded, and the document overridden is
// left as it was (a yaml-cpp node assigned to rebinds the node it refers to).
TEST_F(SweepTest, OverridesKeepABasesRelativePaths) {
  const std::string child = scratch("spike-child.yaml"), big = scratch("production-child.yaml");
  std::ofstream(child) << "extends: " CANARYSIM_SOURCE_DIR "/scenarios/error-spike.yaml\ntraffic: {rate: 50/s}\n";
  std::ofstream(big) << "extends: " CANARYSIM_SOURCE_DIR "/scenarios/production.yaml\nname: child\n";
  const ConfigMap m = ConfigMap::parse_file(child);
  const Scenario s = parse_scenario(m.with({{"traffic.rate", "5/s"}, {"regressions[0].error_rate", "3%"}}));
  EXPECT_DOUBLE_EQ(s.traffic.rate_per_s, 5);
  ASSERT_TRUE(s.policy);
  EXPECT_EQ(s.policy->kind(), "stepped");  // ../policies/presets/stepped.yaml, from scenarios/
  EXPECT_EQ(m.lookup("traffic.rate"), "50/s");  // the original is untouched
  EXPECT_EQ(m.lookup("regressions[0].error_rate"), "2%");
  EXPECT_DOUBLE_EQ(parse_scenario(m).traffic.rate_per_s, 50);
  const Variants v(big, "");
  const Scenario p = v.make({{"scenario.baseline.batching.max_batch", "64"}, {"policy.bake_time", "5m"}});
  EXPECT_EQ(p.baseline.serving.batching.max_batch, 64u);
  EXPECT_GT(p.baseline.serving.batching.b0_s, 0);  // profiles/llama2-70b-h100-tp8.yaml, from scenarios/
  const Variants spike(child, "");
  EXPECT_EQ(spike.make({{"policy.bake_time", "1m"}}).policy->kind(), "stepped");
}

TEST_F(SweepTest, OverridesReplaceCreateAndRefuse) {
  const ConfigMap m = ConfigMap::parse_string("a: 1\nb: {c: [10, {d: 2}]}\n", "<t>");
  const ConfigMap x = m.with({{"a", "5m"}, {"b.c[1].d", "[1, 2]"}, {"e.f", "x"}});
  EXPECT_EQ(x.text("a"), "5m");
  EXPECT_EQ(x.lookup("b.c[1].d"), "[1, 2]");
  EXPECT_EQ(x.lookup("e.f"), "x");
  EXPECT_EQ(x.lookup("b.c[0]"), "10");
  EXPECT_EQ(x.lookup("b.c[2]"), std::nullopt);
  EXPECT_EQ(m.lookup("e.f"), std::nullopt);  // the original is untouched
  EXPECT_EQ(x.file(), "<t>");
  auto message = [&](const std::string& path) {
    try {
      m.with({{path, "1"}});
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message("b.c[5]"), "b.c[5]: no such list item (the list has 2)");
  EXPECT_EQ(message("a.z"), "a.z: a is not a mapping");
  std::string deep = "x";
  for (int i = 0; i < 100000; ++i) deep += ".x";  // a hostile path: refused, not a deep recursion
  EXPECT_NE(message(deep).find("has 100001 parts; a path has at most 64"), std::string::npos) << message(deep);
  EXPECT_EQ(message("b..c"), "'b..c' is not a path like 'steps', 'regressions[0].error_rate' or 'regressions.0.error_rate'");
  EXPECT_EQ(message("[0]"), "'[0]' is not a path like 'steps', 'regressions[0].error_rate' or 'regressions.0.error_rate'");
}

TEST_F(SweepTest, QuantitiesRoundTrip) {
  for (const char* text : {"2%", "0.75%", "5m", "90s", "250ms", "3", "0.02"}) {
    const auto q = parse_quantity(text);
    ASSERT_TRUE(q) << text;
    EXPECT_EQ(format_quantity(*q), text);
  }
  EXPECT_FALSE(parse_quantity("fast"));
  EXPECT_FALSE(parse_quantity("[1, 2]"));
}

TEST_F(SweepTest, WholeNumberSamplesCoverTheRangeUniformly) {
  const ConfigMap spec = ConfigMap::parse_string("f: {min: 0, max: 3}\n", "<t>");
  const FieldSampler sampler(spec, "f");
  Rng rng(1, 0, Stream::kSamples);
  std::map<std::string, int> counts;
  constexpr int kDraws = 4000;
  for (int i = 0; i < kDraws; ++i) ++counts[sampler.draw(rng)];
  ASSERT_EQ(counts.size(), 4u);
  // Each share is 1/4 with standard error sqrt(3/16 / 4000) = 0.0068: within 4 of them.
  for (const auto& [value, n] : counts) EXPECT_NEAR(n / double(kDraws), 0.25, 0.028) << value;
}

TEST_F(SweepTest, LogSamplesStayInsideAndKeepTheirUnit) {
  const ConfigMap spec = ConfigMap::parse_string("d: {min: 1m, max: 20m, scale: log}\np: {min: 0.3%, max: 2%}\n", "<t>");
  const FieldSampler d(spec, "d"), p(spec, "p");
  Rng rng(7, 0, Stream::kSamples);
  int below_4m = 0;
  for (int i = 0; i < 2000; ++i) {
    const auto dv = parse_duration(d.draw(rng));
    ASSERT_TRUE(dv);
    EXPECT_GE(*dv, 60);
    EXPECT_LE(*dv, 1200);
    below_4m += *dv < 240;
    const std::string pv = p.draw(rng);
    ASSERT_EQ(pv.back(), '%');
    EXPECT_GE(*parse_fraction(pv), 0.003 - 1e-12);
    EXPECT_LE(*parse_fraction(pv), 0.02 + 1e-12);
  }
  // Log-uniform: P(< 4m) = ln 4 / ln 20 = 0.463; se over 2000 draws 0.011, 4 se allowed.
  EXPECT_NEAR(below_4m / 2000.0, 0.463, 0.045);
}

TEST_F(SweepTest, ShardsPartitionTheRuns) {
  for (uint64_t shards : {1, 2, 3, 7}) {
    std::vector<int> owners(5 * 13, 0);
    for (uint64_t k = 1; k <= shards; ++k)
      for (uint64_t p = 0; p < 5; ++p)
        for (uint64_t r = 0; r < 13; ++r) owners[p * 13 + r] += in_shard(p, r, 13, k, shards);
    for (int o : owners) EXPECT_EQ(o, 1) << shards << " shards";
  }
}

TEST_F(SweepTest, StoreRoundTripsEveryFieldAndRefusesDuplicates) {
  const Sweep sweep = load_sweep("tests/data/sweeps/small.yaml");
  ASSERT_EQ(sweep.points.size(), 2u);
  const std::string db = scratch("roundtrip.db");
  auto store = ResultStore::create(db, sweep.manifest, sweep.fields,
                                   {{"a", sweep.points[0].scenario.source, "p", {"1m"}},
                                    {"b", sweep.points[1].scenario.source, "p", {"2m"}}});
  Simulator sim(sweep.points[0].scenario, *sweep.points[0].scenario.policy);
  std::vector<RunResult> runs;
  std::vector<std::pair<uint64_t, RunResult>> batch;
  for (uint64_t r = 0; r < 4; ++r) {
    runs.push_back(sim.run(sweep.manifest.seed, r));
    batch.emplace_back(0, runs.back());
  }
  store->insert(batch);
  EXPECT_EQ(results_hash(store->point_runs(0)), results_hash(runs));
  EXPECT_THROW(store->insert({batch[2]}), std::runtime_error);
  EXPECT_EQ(store->finished().size(), 4u);  // the failed batch left nothing behind
  EXPECT_THROW(ResultStore::create(db, sweep.manifest, sweep.fields, {}), InputError);
}

// Bad sweep, tune and power files: the message names file, line, key and the point.
struct BadStudy {
  const char* file;
  const char* message;
};

const BadStudy kBadStudies[] = {
    {"sweep-two-kinds.yaml",
     "tests/data/bad-studies/sweep-two-kinds.yaml:3:3: points: expected exactly one of grid, points or random, "
     "got a list"},
    {"sweep-grid-too-large.yaml",
     "tests/data/bad-studies/sweep-grid-too-large.yaml:4:3: grid: a sweep holds at most 100000 points; this grid "
     "makes 10 x 10 x 10 x 10 x 10 x 10 x 10 = 10000000 (sample it with random: instead, or split it)"},
    {"sweep-bad-value.yaml",
     "tests/data/bad-studies/sweep-bad-value.yaml:5:23: points[1].policy.bake_time: point 1 (bake_time=soon): "
     "bake_time: expected a duration like '250ms', '90s', '15m' or '2h', got 'soon'"},
    {"sweep-grid-late-bad-value.yaml",
     "tests/data/bad-studies/sweep-grid-late-bad-value.yaml:7:21: grid.policy.bake_time: point 30 (bake_time=soon, "
     "interval=10s): bake_time: expected a duration like '250ms', '90s', '15m' or '2h', got 'soon'"},
    {"sweep-grid-field-twice.yaml",
     "tests/data/bad-studies/sweep-grid-field-twice.yaml:8:3: grid.policy.bake_time: duplicate key"},
    {"sweep-random-mixed-units.yaml",
     "tests/data/bad-studies/sweep-random-mixed-units.yaml:6:38: random.fields.policy.bake_time.max: expected "
     "a value written in the same unit as min ('1m'), got '20'"},
    {"tune-unknown-metric.yaml",
     "tests/data/bad-studies/tune-unknown-metric.yaml:6:12: objective: unknown metric 'blast_radius_mean'; "
     "expected one of: false_rollback_rate, missed_regression_rate, rolled_back_before_evidence_rate, "
     "rollback_rate, detection_time_mean, detection_time_p50, detection_time_p90, detection_time_p99, "
     "time_to_mitigate_mean, time_to_mitigate_p50, time_to_mitigate_p90, time_to_mitigate_p99, "
     "rollout_duration_mean, rollout_duration_p50, rollout_duration_p90, rollout_duration_p99, "
     "failed_requests_mean, failed_requests_p50, failed_requests_p90, failed_requests_p99, "
     "canary_failed_requests_mean, canary_failed_requests_p50, canary_failed_requests_p90, "
     "canary_failed_requests_p99, timed_out_requests_mean, timed_out_requests_p50, timed_out_requests_p90, "
     "timed_out_requests_p99, rejected_requests_mean, rejected_requests_p50, rejected_requests_p90, "
     "rejected_requests_p99, preemptions_mean, preemptions_p50, preemptions_p90, preemptions_p99, "
     "gpu_hours_mean, gpu_hours_p50, gpu_hours_p90, gpu_hours_p99, "
     "blast_radius_requests_mean, blast_radius_requests_p50, blast_radius_requests_p90, "
     "blast_radius_requests_p99, blast_radius_users_mean, blast_radius_users_p50, blast_radius_users_p90, "
     "blast_radius_users_p99, cost_mean, cost_p50, cost_p90, cost_p99, canary_cost_mean, canary_cost_p50, "
     "canary_cost_p90, canary_cost_p99, canary_replica_hours_mean, canary_replica_hours_p50, "
     "canary_replica_hours_p90, canary_replica_hours_p99"},
    {"tune-bad-constraint.yaml",
     "tests/data/bad-studies/tune-bad-constraint.yaml:8:24: constraints.false_rollback_rate: expected a "
     "probability in [0, 1], like 0.02 or 2%, got '2h'"},
    {"power-sizes-descend.yaml",
     "tests/data/bad-studies/power-sizes-descend.yaml:3:19: sizes[2]: expected a size above the one before it "
     "(sizes ascend), got '1%'"},
    {"check-unknown-budget.yaml",
     "tests/data/bad-studies/check-unknown-budget.yaml:7:27: cases[0].budgets.false_rollback_rte: unknown "
     "budget 'false_rollback_rte' (did you mean 'false_rollback_rate'?); expected a metric such as "
     "false_rollback_rate, detection_time_p90 or blast_radius_requests_mean (docs/sweeps.md lists them all)"},
    {"power-bad-field.yaml",
     "tests/data/bad-studies/power-bad-field.yaml:3:8: field: size 1%: regressions[2]: no such list item (the "
     "list has 1)"},
};

class BadStudyTest : public ::testing::TestWithParam<BadStudy> {
 protected:
  void SetUp() override { std::filesystem::current_path(CANARYSIM_SOURCE_DIR); }
};

TEST_P(BadStudyTest, FailsWithItsExactMessage) {
  const std::string file = GetParam().file;
  const std::string path = "tests/data/bad-studies/" + file;
  try {
    if (file.rfind("sweep", 0) == 0) load_sweep(path);
    else if (file.rfind("tune", 0) == 0) run_tune(path, {});
    else if (file.rfind("check", 0) == 0) run_check(path, false, 1);
    else run_power(path, {});
    FAIL() << path << " was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), GetParam().message);
  }
}

INSTANTIATE_TEST_SUITE_P(AllFiles, BadStudyTest, ::testing::ValuesIn(kBadStudies), [](const auto& info) {
  std::string name = info.param.file;
  name = name.substr(0, name.find('.'));
  for (char& c : name)
    if (c == '-') c = '_';
  return name;
});

TEST(BadStudyFilesTest, EveryFileInTheFolderIsInTheTable) {
  size_t files = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(CANARYSIM_SOURCE_DIR) + "/tests/data/bad-studies")) {
    ++files;
    bool listed = false;
    for (const BadStudy& b : kBadStudies) listed |= entry.path().filename() == b.file;
    EXPECT_TRUE(listed) << entry.path() << " has no expected message";
  }
  EXPECT_EQ(files, std::size(kBadStudies));
}

}  // namespace
}  // namespace canarysim
