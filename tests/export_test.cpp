// canarysim export-policy: every policy it writes imports back to a policy whose study
// is the same run for run, and every kind it cannot express is refused with the reason.
#include "policies/interop/export.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "policies/interop/import.h"
#include "policies/policy.h"
#include "sim/io/config.h"
#include "sim/model/scenario.h"
#include "sim/study/study.h"

namespace canarysim {
namespace {

namespace fs = std::filesystem;
const std::string kSource = CANARYSIM_SOURCE_DIR;

// Exports `policy` with `tool`, writes the files, imports them back.
Imported RoundTrip(const std::string& tool, const std::string& policy, const std::string& dir) {
  const Exported e = export_policy(tool, policy);
  fs::create_directories(dir);
  std::vector<std::string> files;
  for (const auto& [name, text] : e.files) {
    std::ofstream(dir + "/" + name) << text;
    files.push_back(dir + "/" + name);
  }
  return import_policy(tool, files);
}

std::vector<RunResult> Runs(Scenario scenario, std::shared_ptr<const PolicyConfig> policy, uint64_t runs) {
  scenario.policy = std::move(policy);
  StudyOptions o;
  o.runs = runs;
  o.seed = 7;
  return run_study(scenario, o).runs;
}

void ExpectSameStudy(const std::string& tool, const std::string& policy) {
  SCOPED_TRACE(policy);
  const std::string dir = testing::TempDir() + "/roundtrip-" + fs::path(policy).stem().string();
  const Imported back = RoundTrip(tool, policy, dir);
  const auto original = load_policy_file(policy);
  const auto imported = parse_policy(ConfigMap::parse_string(back.yaml, "<round trip>"));
  EXPECT_EQ(imported->kind(), original->kind());
  EXPECT_FALSE(back.rules.empty());
  for (const char* scenario : {"scenarios/error-spike.yaml", "scenarios/aa-null.yaml", "tests/data/roundtrip/autoscaled.yaml"}) {
    const Scenario s = load_scenario(kSource + "/" + scenario);
    const uint64_t runs = std::string(scenario).find("autoscaled") == std::string::npos ? 24 : 4;
    const auto a = Runs(s, original, runs), b = Runs(s, imported, runs);
    ASSERT_EQ(a.size(), b.size());
    size_t decided = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      SCOPED_TRACE(std::string(scenario) + " run " + std::to_string(i) + ": " + a[i].reason + " | " + b[i].reason);
      EXPECT_EQ(a[i].outcome, b[i].outcome);
      EXPECT_EQ(a[i].decision_time_s == b[i].decision_time_s || (std::isnan(a[i].decision_time_s) && std::isnan(b[i].decision_time_s)), true);
      EXPECT_EQ(a[i].blast_radius_requests, b[i].blast_radius_requests);
      EXPECT_EQ(a[i].canary_requests, b[i].canary_requests);
      EXPECT_EQ(a[i].canary_tokens, b[i].canary_tokens);
      EXPECT_EQ(a[i].canary_replica_seconds, b[i].canary_replica_seconds);
      decided += a[i].outcome != Outcome::kUnfinished;
    }
    std::printf("%s on %s: %zu of %zu runs decided, identical after export and import\n", policy.c_str(), scenario,
                decided, a.size());
  }
}

TEST(ExportTest, ArgoPoliciesRoundTripRunForRun) {
  ExpectSameStudy("argo", kSource + "/policies/presets/argo.yaml");
  ExpectSameStudy("argo", kSource + "/tests/data/roundtrip/argo-shadow-dryrun.yaml");
  // Argo's weights are whole: finer ones go out in parts of maxTrafficWeight and come back.
  const std::string fine = kSource + "/tests/data/roundtrip/argo-fine-weights.yaml";
  ExpectSameStudy("argo", fine);
  const Exported e = export_policy("argo", fine);
  std::string rollout;
  for (const auto& [name, text] : e.files) rollout += text;
  // Argo reads maxTrafficWeight through NGINX (or a plugin) only, and a router needs both
  // Services, or the Rollout is InvalidSpec: they are written, named after the Deployment.
  EXPECT_NE(rollout.find("canaryService: llm-serving-canary\n      stableService: llm-serving-stable\n"
                         "      trafficRouting:\n        maxTrafficWeight: 1000\n        nginx:\n"
                         "          stableIngress: llm-serving\n      steps:\n        - setWeight: 5\n"),
            std::string::npos) << rollout;
  EXPECT_NE(rollout.find("- setWeight: 125\n"), std::string::npos) << rollout;
  ASSERT_FALSE(e.warnings.empty());
  EXPECT_NE(e.warnings.front().find("routes through NGINX's Ingress llm-serving (weights in parts of 1000, "
                                    "trafficRouting.maxTrafficWeight"),
            std::string::npos) << e.warnings.front();
  // Mirroring runs through Istio only, and finer weights through NGINX only: no router does both.
  const std::string both = testing::TempDir() + "/mirror-fine.yaml";
  std::ofstream(both) << "kind: argo\nsteps:\n  - setMirrorRoute: {percentage: 20}\n  - pause: {duration: 5m}\n"
                         "  - setWeight: 0.5\n  - pause: {duration: 5m}\n";
  try {
    export_policy("argo", both);
    ADD_FAILURE() << "exported";
  } catch (const InputError& err) {
    EXPECT_NE(std::string(err.what()).find("no traffic router Argo accepts does both"), std::string::npos) << err.what();
  }
  // A dry-run metric's rule names it alone: Argo finds a rule anywhere in a name, so a
  // bare "ttft" would mark "ttft-p99" as dry-run too once in Argo, and on import back.
  const std::string dry = testing::TempDir() + "/dry-prefix.yaml";
  std::ofstream(dry) << "kind: argo\nsteps:\n  - setWeight: 20\n  - analysis: {templates: [{templateName: t}]}\n"
                        "templates:\n  t:\n    metrics:\n"
                        "      - {name: ttft, interval: 1m, count: 2, dryRun: true, successCondition: result < 1,"
                        " provider: {query: ttft_mean}}\n"
                        "      - {name: ttft-p99, interval: 1m, count: 2, successCondition: result < 3,"
                        " provider: {query: ttft_p99}}\n";
  const Imported back = RoundTrip("argo", dry, testing::TempDir() + "/dry-prefix");
  ASSERT_EQ(back.rules.size(), 1u);
  EXPECT_NE(back.rules[0].find("ttft_p99 < 3s"), std::string::npos) << back.rules[0];
  // Whole percents are written as percents, without a router.
  std::string preset;
  for (const auto& [name, text] : export_policy("argo", kSource + "/policies/presets/argo.yaml").files) preset += text;
  EXPECT_EQ(preset.find("maxTrafficWeight"), std::string::npos);
}

TEST(ExportTest, FlaggerPoliciesRoundTripRunForRun) {
  ExpectSameStudy("flagger", kSource + "/policies/presets/flagger.yaml");
  for (const char* f : {"flagger-ab.yaml", "flagger-blue-green.yaml", "flagger-step-weights.yaml"})
    ExpectSameStudy("flagger", kSource + "/tests/data/roundtrip/" + f);
}

TEST(ExportTest, FlaggerWeightsThatAreNotWholePercentsAreRefused) {
  // Flagger's weights are integers with no finer unit (Argo's have maxTrafficWeight).
  const std::string path = testing::TempDir() + "/fine-flagger.yaml";
  const std::string rest = "metrics:\n  - {name: error_rate, thresholdRange: {max: 1}, interval: 1m}\n";
  for (const std::string& weights : {std::string("stepWeight: 2.5\nmaxWeight: 50\n"), std::string("stepWeights: [1, 2.5, 10]\n")}) {
    std::ofstream(path) << "kind: flagger\ninterval: 1m\nthreshold: 2\n" + weights + rest;
    try {
      export_policy("flagger", path);
      ADD_FAILURE() << "exported " << weights;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(":4:"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("Flagger's weights are integers, so 2.5 % cannot be written"), std::string::npos)
          << e.what();
    }
  }
  std::ofstream(path) << "kind: flagger\ninterval: 1m\nthreshold: 2\nstepWeight: 5\nmaxWeight: 50\n" + rest;
  std::string canary;
  for (const auto& [name, text] : export_policy("flagger", path).files) canary += text;
  EXPECT_NE(canary.find("stepWeight: 5\n"), std::string::npos) << canary;
}

TEST(ExportTest, KindsWithoutAnExactFormAreRefusedWithTheReason) {
  for (const auto& entry : fs::directory_iterator(kSource + "/policies/presets")) {
    const auto policy = load_policy_file(entry.path().string());
    const std::string kind = policy->kind();
    if (kind == "argo" || kind == "flagger") continue;
    try {
      export_policy("argo", entry.path().string());
      ADD_FAILURE() << entry.path() << " exported";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("kind: " + kind + ": export-policy writes argo and flagger policies exactly"),
                std::string::npos)
          << e.what();
    }
  }
  EXPECT_THROW(export_policy("flagger", kSource + "/policies/presets/argo.yaml"), InputError);
  // Conditions written for a Datadog number would fail on the Prometheus list export writes.
  const std::string scalar = testing::TempDir() + "/argo-scalar.yaml";
  std::ofstream(scalar) << "kind: argo\nsteps: [{setWeight: 10}, {analysis: {templates: [{templateName: t}]}}]\n"
                           "templates: {t: {metrics: [{name: m, successCondition: result < 0.01,\n"
                           "  provider: {query: error_rate, result: scalar}}]}}\n";
  try {
    export_policy("argo", scalar);
    ADD_FAILURE() << "exported";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("result: any or vector: export writes Prometheus queries"), std::string::npos)
        << e.what();
  }
}

TEST(ExportTest, AMappingThatWouldNotRoundTripIsRefused) {
  const std::string mapping = testing::TempDir() + "/bad-mapping.yaml";
  std::string text = default_metric_mapping();
  // A latency histogram without a unit in its name: import could not tell its unit.
  const std::string from = "vllm:time_to_first_token_seconds_bucket";
  text.replace(text.find(from), from.size(), "vllm:time_to_first_token_bucket");
  std::ofstream(mapping) << text;
  try {
    export_policy("flagger", kSource + "/policies/presets/flagger.yaml", mapping);
    ADD_FAILURE() << "exported";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("reads back as nothing"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("names no unit"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace canarysim
