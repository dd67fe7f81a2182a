// Every bad input ends in one message naming file, line and column, key, and what was
// expected. Each file in tests/data/bad/ is listed here with its exact message.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "sim/io/config.h"
#include "sim/io/schema.h"
#include "sim/model/scenario.h"

namespace canarysim {
namespace {

struct BadInput {
  const char* file;
  const char* message;
};

// Paths are relative to the source tree, as a user in it would type them.
const BadInput kBadInputs[] = {
    {"trace-unknown-schema.yaml",
     "tests/data/bad/trace-unknown-schema.yaml:2:76: traffic.trace.schema: expected one of azure, azure-2024, mooncake, burstgpt, got 'sharegpt'"},
    {"max-queue-without-batching.yaml",
     "tests/data/bad/max-queue-without-batching.yaml:3:14: baseline.max_queue: expected no "
     "max_queue without batching: a sampled version has no queue, got '100'"},
    {"chunk-tokens-with-prefill-first.yaml",
     "tests/data/bad/chunk-tokens-with-prefill-first.yaml:5:19: baseline.batching.chunk_tokens: "
     "expected no chunk_tokens with scheduler prefill_first (chunked prefill mixes prefill "
     "chunks into decoding iterations), got '512'"},
    {"unknown-scheduler.yaml",
     "tests/data/bad/unknown-scheduler.yaml:4:16: baseline.batching.scheduler: expected mixed "
     "or prefill_first, got 'fcfs'"},
    {"kv-footprint-without-kv-cache.yaml",
     "tests/data/bad/kv-footprint-without-kv-cache.yaml:5:12: regressions[0].kind: expected a "
     "kind other than kv_footprint: the canary has no batched pool with a kv_cache, got "
     "'kv_footprint'"},
    {"kv-cache-weights-too-large.yaml",
     "tests/data/bad/kv-cache-weights-too-large.yaml:5:47: "
     "baseline.batching.kv_cache.weights_gb: expected weights that leave KV-cache memory free "
     "(gpus x gpu_memory_gb x memory_utilization above weights_gb), got '140'"},
    {"target-utilization-without-auto.yaml",
     "tests/data/bad/target-utilization-without-auto.yaml:5:25: "
     "baseline.batching.target_utilization: expected replicas: auto or autoscale: {fleet: auto} "
     "with target_utilization, got '70%'"},
    {"deployment-bad-stable-scale.yaml",
     "tests/data/bad/deployment-bad-stable-scale.yaml:2:28: deployment.stable_scale: expected "
     "static or dynamic, got 'shrink'"},
    {"unknown-key.yaml",
     "tests/data/bad/unknown-key.yaml:3:3: traffic.rte: unknown key (did you mean 'rate'?); "
     "expected one of: rate, diurnal, schedule, bursts, trace, prompt_tokens, output_tokens, "
     "users, user_skew, segments, adversarial"},
    {"rate-not-a-rate.yaml",
     "tests/data/bad/rate-not-a-rate.yaml:2:9: traffic.rate: expected a rate like '200/s', "
     "'12000/m' or '50000/h', got 'fast'"},
    {"rate-without-unit.yaml",
     "tests/data/bad/rate-without-unit.yaml:2:9: traffic.rate: expected a rate like '200/s', "
     "'12000/m' or '50000/h', got '200'"},
    {"negative-rate.yaml",
     "tests/data/bad/negative-rate.yaml:2:9: traffic.rate: expected a positive rate of at most 1000000/s, got '-5/s'"},
    {"negative-duration.yaml",
     "tests/data/bad/negative-duration.yaml:1:10: horizon: expected a non-negative duration, "
     "got '-1h'"},
    {"duration-without-unit.yaml",
     "tests/data/bad/duration-without-unit.yaml:2:12: bake_time: expected a duration like "
     "'250ms', '90s', '15m' or '2h', got '10'"},
    {"probability-above-one.yaml",
     "tests/data/bad/probability-above-one.yaml:2:15: baseline.error_rate: expected a "
     "probability in [0, 1], like 0.02 or 2%, got '1.5'"},
    {"weights-decrease.yaml",
     "tests/data/bad/weights-decrease.yaml:2:15: steps[2]: expected weights that increase from "
     "step to step, got '3'"},
    {"weight-above-100.yaml",
     "tests/data/bad/weight-above-100.yaml:2:13: steps[1]: expected a canary weight in "
     "percent, in (0, 100], got '150'"},
    {"wrong-type-steps.yaml",
     "tests/data/bad/wrong-type-steps.yaml:2:8: steps: expected a non-empty list of numbers, "
     "got '10'"},
    {"missing-policy-file.yaml",
     "tests/data/bad/missing-policy-file.yaml:2:9: policy: no such policy file "
     "tests/data/bad/no-such-policy.yaml; expected a policy file (relative to this scenario) "
     "or a policy mapping"},
    {"invalid-yaml.yaml",
     "tests/data/bad/invalid-yaml.yaml:3:8: invalid YAML: end of sequence flow not found"},
    {"unknown-policy-kind.yaml",
     "tests/data/bad/unknown-policy-kind.yaml:1:7: kind: unknown policy kind 'steppd' (did you "
     "mean 'stepped'?); expected one of: argo, burn_rate, composite, cusum, drift, ewma, flagger, "
     "kayenta, plan, sequential, stepped"},
    {"unknown-metric.yaml",
     "tests/data/bad/unknown-metric.yaml:3:13: checks[0].metric: expected a metric name: "
     "error_rate, success_rate, request_count, quality_mean, golden_quality_mean, "
     "hallucination_rate, unsafe_rate, output_tokens_mean, cost_per_request, timeout_rate, "
     "rejected_rate, abandoned_rate, preemption_rate, preemption_count, or ttft_, itl_, token_gap_ or "
     "latency_ followed by a quantile like p99 or by mean, got 'ttft_p999x'"},
    {"check-without-bound.yaml",
     "tests/data/bad/check-without-bound.yaml:3:5: checks[0].max: missing; expected at least "
     "one of max, min, max_ratio or max_increase"},
    {"no-checks.yaml",
     "tests/data/bad/no-checks.yaml:1:1: checks: missing; expected a list of at least one "
     "check"},
    {"p99-below-median.yaml",
     "tests/data/bad/p99-below-median.yaml:2:30: baseline.ttft.p99: expected a p99 at least as "
     "large as the median, got '300ms'"},
    {"not-a-mapping.yaml",
     "tests/data/bad/not-a-mapping.yaml:1:1: expected a mapping of keys to values, got a list"},
    {"duplicate-key.yaml", "tests/data/bad/duplicate-key.yaml:2:1: horizon: duplicate key"},
    {"unknown-regression-kind.yaml",
     "tests/data/bad/unknown-regression-kind.yaml:2:11: regressions[0].kind: unknown "
     "regression kind 'latncy' (did you mean 'latency'?); expected one of: latency, "
     "tail_latency, capacity_loss, errors, quality, hallucination, drift, verbosity, unsafe, "
     "cost, kv_footprint, prefix_cache"},
    {"latency-regression-without-multiplier.yaml",
     "tests/data/bad/latency-regression-without-multiplier.yaml:2:5: "
     "regressions[0].ttft_multiplier: missing; expected ttft_multiplier or itl_multiplier for "
     "a latency regression"},
    {"negative-multiplier.yaml",
     "tests/data/bad/negative-multiplier.yaml:3:22: regressions[0].ttft_multiplier: expected a "
     "number in [0, 10000], got '-2'"},
    {"users-not-whole.yaml",
     "tests/data/bad/users-not-whole.yaml:2:10: traffic.users: expected a whole number in [1, "
     "100000000], got '1.5'"},
    {"errors-regression-both-rates.yaml",
     "tests/data/bad/errors-regression-both-rates.yaml:3:17: regressions[0].error_rate: "
     "expected exactly one of error_rate or added_error_rate, got '2%'"},
    {"topology-cycle.yaml",
     "tests/data/bad/topology-cycle.yaml:2:3: topology: the components form a cycle: gateway -> "
     "model -> filter -> gateway; expected a graph without cycles"},
    {"scope-unknown-segment.yaml",
     "tests/data/bad/scope-unknown-segment.yaml:6:22: regressions[0].scope.segment: unknown "
     "segment 'asia'; expected one of: eu, us"},
    {"capacity-loss-on-sampled-canary.yaml",
     "tests/data/bad/capacity-loss-on-sampled-canary.yaml:2:11: regressions[0].kind: expected a "
     "kind other than capacity_loss: the canary has no batched pool to lose, got "
     "'capacity_loss'"},
    {"batching-with-ttft.yaml",
     "tests/data/bad/batching-with-ttft.yaml:2:9: baseline.ttft: expected no ttft or "
     "inter_token with batching: a batched pool's latency comes from its iterations, got "
     "'400ms'"},
    {"missing-trace-file.yaml",
     "tests/data/bad/missing-trace-file.yaml:2:17: traffic.trace.file: no such trace file "
     "tests/data/bad/no-such-trace.csv"},
    {"segment-shares-not-100.yaml",
     "tests/data/bad/segment-shares-not-100.yaml:3:5: traffic.segments: segment shares add up "
     "to 90%; expected 100%"},
    {"routing-unknown-segment.yaml",
     "tests/data/bad/routing-unknown-segment.yaml:4:11: routing.first[0]: expected the name of "
     "a segment of traffic.segments, got 'internal'"},
    {"onset-weight-above-100.yaml",
     "tests/data/bad/onset-weight-above-100.yaml:4:21: regressions[0].onset.weight: expected a "
     "weight in percent, in [0, 100], like 25 or 25%, got '150%'"},
    {"embedded-policy-bad.yaml",
     "tests/data/bad/embedded-policy-bad.yaml:4:13: policy.interval: expected a positive "
     "duration, got '0s'"},
};

class BadInputTest : public ::testing::TestWithParam<BadInput> {
 protected:
  void SetUp() override { std::filesystem::current_path(CANARYSIM_SOURCE_DIR); }
};

TEST_P(BadInputTest, FailsWithItsExactMessage) {
  const std::string path = std::string("tests/data/bad/") + GetParam().file;
  try {
    validate_file(path);
    FAIL() << path << " was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), GetParam().message);
  }
}

INSTANTIATE_TEST_SUITE_P(AllFiles, BadInputTest, ::testing::ValuesIn(kBadInputs),
                         [](const auto& info) {
                           std::string name = info.param.file;
                           name = name.substr(0, name.find('.'));
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

TEST(BadInputFilesTest, EveryFileInTheFolderIsInTheTable) {
  size_t files = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(CANARYSIM_SOURCE_DIR) + "/tests/data/bad")) {
    ++files;
    bool listed = false;
    for (const BadInput& b : kBadInputs) listed |= entry.path().filename() == b.file;
    EXPECT_TRUE(listed) << entry.path() << " has no expected message";
  }
  EXPECT_EQ(files, std::size(kBadInputs));
}

TEST(BadInputTest, AMissingFileIsNamed) {
  try {
    load_scenario("/no/such/scenario.yaml");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "/no/such/scenario.yaml: no such file");
  }
}

TEST(UnitsTest, DurationsRatesAndFractionsParse) {
  EXPECT_EQ(parse_duration("90s"), 90);
  EXPECT_EQ(parse_duration("15m"), 900);
  EXPECT_EQ(parse_duration("2h"), 7200);
  EXPECT_EQ(parse_duration("250ms"), 0.25);
  EXPECT_EQ(parse_duration("1.5h"), 5400);
  EXPECT_EQ(parse_duration("0"), 0);
  EXPECT_FALSE(parse_duration("10"));
  EXPECT_FALSE(parse_duration("10 s"));
  EXPECT_FALSE(parse_duration("s"));
  // Compound, from the largest unit down, as Go, Prometheus and Argo write them.
  EXPECT_EQ(parse_duration("1h30m"), 5400);
  EXPECT_EQ(parse_duration("2m30s"), 150);
  EXPECT_EQ(parse_duration("1d12h"), 129600);
  EXPECT_EQ(parse_duration("1s500ms"), 1.5);
  EXPECT_FALSE(parse_duration("30m1h"));
  EXPECT_FALSE(parse_duration("1m1m"));
  EXPECT_FALSE(parse_duration("1h-30m"));
  EXPECT_FALSE(parse_duration("1h30"));
  EXPECT_FALSE(parse_duration("1h 30m"));
  EXPECT_EQ(parse_rate("1500/sec"), 1500);
  EXPECT_EQ(parse_rate("200/s"), 200);
  EXPECT_EQ(parse_rate("120/m"), 2);
  EXPECT_EQ(parse_rate("7200/h"), 2);
  EXPECT_FALSE(parse_rate("200"));
  EXPECT_FALSE(parse_rate("200/day"));
  EXPECT_EQ(parse_fraction("2%"), 0.02);
  EXPECT_EQ(parse_fraction("0.5"), 0.5);
  EXPECT_FALSE(parse_fraction("half"));
}

TEST(UnitsTest, NearestSuggestsCloseWordsOnly) {
  EXPECT_EQ(nearest("bake_tme", {"bake_time", "interval"}), "bake_time");
  EXPECT_EQ(nearest("zzzzzz", {"bake_time", "interval"}), "");
}

}  // namespace
}  // namespace canarysim

namespace canarysim {
namespace {

// `extends`: a scenario built on another (sim/io/config.h).
class ExtendsTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + name;
    std::ofstream(path) << text;
    return path;
  }
  std::string Error(const std::string& path) {
    try {
      load_scenario(path);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }
  std::string dir_ = ::testing::TempDir();
};

TEST_F(ExtendsTest, MappingsMergeListsAreReplacedAndPathsStayTheBases) {
  // production.yaml names its profile relative to scenarios/: it still loads from here.
  const std::string child = Write("night.yaml", "extends: " CANARYSIM_SOURCE_DIR "/scenarios/production.yaml\n"
                                                "name: night\ntraffic:\n  diurnal: {peak: 13h}\n"
                                                "policy: {kind: stepped, steps: [10], checks: [{metric: error_rate, max: 1%}]}\n");
  const Scenario s = load_scenario(child);
  const Scenario base = load_scenario(CANARYSIM_SOURCE_DIR "/scenarios/production.yaml");
  EXPECT_EQ(s.name, "night");
  EXPECT_DOUBLE_EQ(s.traffic.diurnal_peak_s, 13 * 3600);
  EXPECT_DOUBLE_EQ(s.traffic.diurnal_amplitude, base.traffic.diurnal_amplitude);  // kept from the base
  EXPECT_DOUBLE_EQ(s.traffic.rate_per_s, base.traffic.rate_per_s);
  EXPECT_EQ(s.canary.serving.batching.autoscale.min, 40u);  // a section of the base untouched
  EXPECT_DOUBLE_EQ(s.baseline.serving.batching.b0_s, base.baseline.serving.batching.b0_s);  // its profile found
  EXPECT_EQ(s.regressions.size(), 1u);
  EXPECT_EQ(s.policy->kind(), "stepped");
  // A list is replaced whole, not merged item by item.
  const std::string two = Write("two.yaml", "extends: night.yaml\nregressions: []\n");
  EXPECT_TRUE(load_scenario(two).regressions.empty());
  // The shipped example loads.
  EXPECT_EQ(load_scenario(CANARYSIM_SOURCE_DIR "/scenarios/production-night.yaml").name, "production-night");
}

TEST_F(ExtendsTest, AnErrorInABaseNamesTheBaseAndTheFileThatExtendsIt) {
  Write("bad-base.yaml", "name: base\ntraffic:\n  rate: fast\n");
  const std::string child = Write("child.yaml", "extends: bad-base.yaml\nname: child\n");
  EXPECT_NE(Error(child).find(dir_ + "bad-base.yaml:3:9 (extended by " + child + "): traffic.rate: expected a rate"),
            std::string::npos)
      << Error(child);
  // An error in the extending file names that file alone.
  const std::string own = Write("own.yaml", "extends: " CANARYSIM_SOURCE_DIR "/scenarios/default.yaml\nhorizon: -1h\n");
  EXPECT_EQ(Error(own).rfind(own + ":2:10: horizon", 0), 0u) << Error(own);
  // An unknown key keeps its line, whichever file it is in.
  Write("typo-base.yaml", "name: base\ntrafic: {rate: 1/s}\n");
  const std::string typo = Write("typo.yaml", "extends: typo-base.yaml\n");
  EXPECT_NE(Error(typo).find("typo-base.yaml:2:1 (extended by " + typo + "): trafic: unknown key (did you mean 'traffic'?)"),
            std::string::npos)
      << Error(typo);
}

TEST_F(ExtendsTest, CyclesAndMissingBasesAreRefusedWithTheChain) {
  Write("a.yaml", "extends: b.yaml\nname: a\n");
  Write("b.yaml", "extends: a.yaml\nname: b\n");
  const std::string e = Error(dir_ + "a.yaml");
  EXPECT_NE(e.find("b.yaml:1:10: extends: a cycle: " + dir_ + "a.yaml -> " + dir_ + "b.yaml -> " + dir_ + "a.yaml"),
            std::string::npos)
      << e;
  Write("self.yaml", "extends: self.yaml\n");
  EXPECT_NE(Error(dir_ + "self.yaml").find("a cycle"), std::string::npos);
  Write("missing.yaml", "extends: nowhere.yaml\n");
  EXPECT_NE(Error(dir_ + "missing.yaml").find("missing.yaml:1:10: extends: no such file " + dir_ + "nowhere.yaml"),
            std::string::npos)
      << Error(dir_ + "missing.yaml");
  Write("list.yaml", "extends: [a.yaml]\n");
  EXPECT_NE(Error(dir_ + "list.yaml").find("extends: expected the path of a YAML file to build on"), std::string::npos);
}

}  // namespace
}  // namespace canarysim

namespace canarysim {
namespace {

TEST(ConfigPathTest, ListItemsTakeBothSpellingsInOverrides) {
  const ConfigMap m = ConfigMap::parse_string("regressions: [{error_rate: 1%}, {error_rate: 2%}]\n", "<p>");
  for (const char* path : {"regressions[1].error_rate", "regressions.1.error_rate"}) {
    const ConfigMap changed = m.with({{path, "5%"}});
    EXPECT_DOUBLE_EQ(changed.maps("regressions")[1].probability("error_rate"), 0.05) << path;
    EXPECT_DOUBLE_EQ(changed.maps("regressions")[0].probability("error_rate"), 0.01) << path;
  }
  try {
    m.with({{"regressions.7.error_rate", "5%"}});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("regressions.7: no such list item (the list has 2)"), std::string::npos)
        << e.what();
  }
}

// The schema tables are checked on every read: a reader that drifts from its table (a
// key read as another type, a default that differs, a key the table lacks) fails loudly.
TEST(SchemaTest, EveryReadIsCheckedAgainstItsTable) {
  const Section table{"test", "t", "A section for this test.",
                      {{"a", schema::kDuration, "5m", ">= 0", "a duration"}, {"b", schema::kRate, "", "", "a rate"}}};
  const ConfigMap m = ConfigMap::parse_string("a: 1m\nb: 3/s\n", "<t>");
  m.allow(table);
  EXPECT_EQ(m.duration("a", 300), 60);
  EXPECT_EQ(m.rate("b"), 3);
  EXPECT_THROW(m.rate("a"), std::logic_error);           // the table says a duration
  EXPECT_THROW(m.duration("a", 10), std::logic_error);   // the table says 5m
  EXPECT_THROW(m.duration("c", 1), std::logic_error);    // not in the table
  // The table is the reader's list of keys: anything else is the user's error, located.
  const ConfigMap bad = ConfigMap::parse_string("a: 1m\nc: 2\n", "<t>");
  try {
    bad.allow(table);
    ADD_FAILURE() << "an unknown key was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("<t>:2:1: c: unknown key"), std::string::npos) << e.what();
  }
  // A table leaves the reference with its scope.
  bool listed = false;
  for (const Section* s : schema_sections()) listed |= s == &table;
  EXPECT_TRUE(listed);
}

}  // namespace
}  // namespace canarysim
