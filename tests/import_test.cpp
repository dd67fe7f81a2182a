// canarysim import: realistic configurations become policies that load and run, and
// every field that is not honoured is named in a warning.
#include "policies/interop/import.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <tuple>

#include "policies/policy.h"
#include "sim/io/config.h"

namespace canarysim {
namespace {

const std::string kExamples = std::string(CANARYSIM_SOURCE_DIR) + "/policies/examples/";

bool Warned(const Imported& i, const std::string& part) {
  return std::any_of(i.warnings.begin(), i.warnings.end(),
                     [&](const std::string& w) { return w.find(part) != std::string::npos; });
}

std::shared_ptr<const PolicyConfig> Load(const Imported& i) {
  return parse_policy(ConfigMap::parse_string(i.yaml, "<imported>"));
}

TEST(ImportTest, ArgoRolloutWithTemplates) {
  const Imported i = import_policy("argo", {kExamples + "argo-rollout.yaml"});
  const auto policy = Load(i);
  EXPECT_EQ(policy->kind(), "argo");
  EXPECT_NE(i.yaml.find("query: success_rate"), std::string::npos) << i.yaml;
  EXPECT_NE(i.yaml.find("query: ttft_p99"), std::string::npos) << i.yaml;
  EXPECT_NE(i.yaml.find("duration: 600s"), std::string::npos) << i.yaml;  // seconds as Argo writes them
  EXPECT_TRUE(Warned(i, "spec.strategy.canary.trafficRouting"));
  EXPECT_TRUE(Warned(i, "steps[5]: setHeaderRoute sends requests by header"));
}

TEST(ImportTest, FlaggerCanaryWithMetricTemplate) {
  const Imported i = import_policy("flagger", {kExamples + "flagger-canary.yaml"});
  EXPECT_EQ(Load(i)->kind(), "flagger");
  EXPECT_NE(i.yaml.find("name: ttft_p95"), std::string::npos) << i.yaml;
  EXPECT_TRUE(Warned(i, "spec.analysis.webhooks"));
  EXPECT_FALSE(Warned(i, "spec.targetRef"));  // wiring, not policy
}

TEST(ImportTest, PerRequestRoutingIsNotedInThePolicy) {
  // Argo and Flagger send each request by weight; canarysim's users are sticky. The
  // written policy says so (a comment, so that --strict still imports).
  const std::string corpus = std::string(CANARYSIM_SOURCE_DIR) + "/tests/data/import-corpus/";
  const Imported argo = import_policy("argo", {kExamples + "argo-rollout.yaml"});
  EXPECT_NE(argo.yaml.find("# note: each request goes to a version by the weight"), std::string::npos) << argo.yaml;
  EXPECT_NE(argo.yaml.find("routing: {sticky: false} in the scenario routes as Argo's"), std::string::npos) << argo.yaml;
  const Imported flagger = import_policy("flagger", {kExamples + "flagger-canary.yaml"});
  EXPECT_NE(flagger.yaml.find("routes as Flagger's (without sessionAffinity)"), std::string::npos) << flagger.yaml;
  const Imported sticky = import_policy("flagger", {corpus + "48-flagger-vllm-finish-reason/canary.yaml"});
  EXPECT_EQ(sticky.yaml.find("lower bound"), std::string::npos) << sticky.yaml;
  EXPECT_NE(sticky.yaml.find("a user who reached the canary stays on it"), std::string::npos) << sticky.yaml;
  EXPECT_FALSE(Warned(sticky, "sessionAffinity"));
}

TEST(ImportTest, KayentaConfigDropsWhatItCannotMeasure) {
  ImportOptions o;
  o.lifetime = "2h";
  o.interval = "30m";
  const Imported i = import_policy("kayenta", {kExamples + "kayenta-config.json"}, o);
  EXPECT_EQ(Load(i)->kind(), "kayenta");
  EXPECT_NE(i.yaml.find("metric: ttft_p90"), std::string::npos) << i.yaml;
  EXPECT_NE(i.yaml.find("metric: error_rate"), std::string::npos) << i.yaml;
  EXPECT_TRUE(Warned(i, "(metric gpu_memory_used): its query was not read: rate() of 'DCGM_FI_DEV_FB_USED', which is not a counter"));
  // Kayenta's no-data and outlier settings are the policy's (they were warned as not read).
  EXPECT_NE(i.yaml.find("must_have_data: true"), std::string::npos) << i.yaml;
  EXPECT_NE(i.yaml.find("nan_strategy: replace"), std::string::npos) << i.yaml;
  EXPECT_NE(i.yaml.find("outliers:\n      strategy: remove\n      factor: 3"), std::string::npos) << i.yaml;
  EXPECT_FALSE(Warned(i, "nanStrategy"));
  EXPECT_FALSE(Warned(i, "outliers"));
  EXPECT_TRUE(Warned(i, "lifetime 2h, interval 30m"));
}

TEST(ImportTest, ASpinnakerStageGivesTheKayentaSchedule) {
  // orca-kayenta's schedule: floor(lifetime / interval) judgements, the interval the
  // lifetime when longer; a pipeline with two canary stages needs --name.
  const std::string path = ::testing::TempDir() + "pipeline.json";
  const auto stage = [](const std::string& name, const std::string& config) {
    return "{\"type\": \"kayentaCanary\", \"name\": \"" + name + "\", \"canaryConfig\": {" + config +
           ", \"scoreThresholds\": {\"pass\": \"90\", \"marginal\": \"70\"}}}";
  };
  const auto import = [&](const std::string& stages, const std::string& name = "") {
    std::ofstream(path) << "{\"stages\": [" << stages << "]}";
    ImportOptions o;
    o.name = name;
    return import_policy("kayenta", {kExamples + "kayenta-config.json", path}, o);
  };
  const Imported longer = import(stage("a", "\"lifetimeDuration\": \"PT45M\", \"canaryAnalysisIntervalMins\": 60"));
  EXPECT_NE(longer.yaml.find("lifetime: 45m\ninterval: 45m\n"), std::string::npos) << longer.yaml;
  EXPECT_EQ(Load(longer)->kind(), "kayenta");
  EXPECT_FALSE(Warned(longer, "from the command line (a Kayenta config holds no schedule"));
  const std::string two = stage("first", "\"lifetimeDuration\": \"PT1H\"") + ", " +
                          stage("second", "\"lifetimeDuration\": \"PT2H\", \"canaryAnalysisIntervalMins\": \"30\"");
  try {
    import(two);
    ADD_FAILURE() << "imported";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("2 kayentaCanary stages: "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("pick one with --name"), std::string::npos) << e.what();
  }
  EXPECT_NE(import(two, "second").yaml.find("lifetime: 120m\ninterval: 30m\n"), std::string::npos);
  EXPECT_THROW(import(stage("a", "\"canaryAnalysisIntervalMins\": 60")), InputError);  // no lifetime: Orca refuses
}

TEST(ImportTest, ABackgroundAnalysisStartsAtTheSameStepWhenStepsBeforeItAreDroppedOrSplit) {
  // startingStep counts the Rollout's steps; import drops some (setHeaderRoute) and splits
  // others (an experiment's analyses, one step each), so the index is carried over.
  const std::string path = ::testing::TempDir() + "starting-step.yaml";
  const std::string tmpl = R"(---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: sr}
spec:
  metrics:
  - name: sr
    interval: 1m
    count: 3
    successCondition: result[0] >= 0.95
    provider:
      prometheus: {query: 'sum(rate(x_total{role="canary",code!~"5.."}[1m])) / sum(rate(x_total{role="canary"}[1m]))'}
)";
  // (Argo runs setHeaderRoute through a router that manages the route: the Rollout names both.)
  const std::string routed = "      canaryService: c\n      stableService: s\n      trafficRouting:\n"
                             "        managedRoutes: [{name: h}]\n        istio: {virtualService: {name: vs}}\n";
  const auto import = [&](const std::string& start, const std::string& steps) {
    std::ofstream(path) << "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n  strategy:\n"
                           "    canary:\n" + routed + "      analysis: {templates: [{templateName: sr}], startingStep: " +
                           start + "}\n      steps:\n" + steps + tmpl;
    return import_policy("argo", {path});
  };
  const std::string header_route = "      - setHeaderRoute: {name: h, match: [{headerName: x, headerValue: {exact: y}}]}\n";
  const std::string experiment = "      - experiment: {duration: 5m, templates: [{name: c, specRef: canary}], analyses: "
                                 "[{name: a, templateName: sr}, {name: b, templateName: sr}]}\n";
  const std::string weights = "      - setWeight: 50\n      - pause: {duration: 5m}\n";
  // Step 3 of the Rollout (setWeight 50) is step 2 once the header route is dropped ...
  const Imported dropped = import("3", "      - setWeight: 10\n" + header_route + "      - pause: {duration: 5m}\n" + weights);
  EXPECT_NE(dropped.yaml.find("startingStep: 2\n"), std::string::npos) << dropped.yaml;
  EXPECT_NE(dropped.yaml.find("# note: startingStep 3 ("), std::string::npos) << dropped.yaml;
  EXPECT_EQ(Load(dropped)->kind(), "argo");
  // ... and step 2 once an experiment before it becomes two analysis steps.
  EXPECT_NE(import("1", experiment + weights).yaml.find("startingStep: 2\n"), std::string::npos);
  // Unmoved, it is written as it was, without a note; past the steps, it is refused where written.
  const Imported same = import("1", weights);
  EXPECT_NE(same.yaml.find("startingStep: 1\n"), std::string::npos) << same.yaml;
  EXPECT_EQ(same.yaml.find("# note: startingStep"), std::string::npos) << same.yaml;
  try {
    import("5", weights);
    ADD_FAILURE() << "imported";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("startingStep: expected a step of the Rollout's, in [0, 2], got '5'"),
              std::string::npos) << e.what();
  }
}

TEST(ImportTest, WhatArgoRefusesWhenItBuildsTheAnalysisRunIsRefusedWhereWritten) {
  // Argo builds an analysis's AnalysisRun from all its templates at once; what it cannot
  // build never lets a release pass, so import refuses, naming the input, rather than
  // simulate a policy that does not run. What it can build imports.
  const std::string path = ::testing::TempDir() + "analysis-run.yaml";
  const auto import = [&](const std::string& rules, const std::string& query, const std::string& args = "") {
    std::ofstream(path) << "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n  strategy:\n"
                           "    canary:\n      steps:\n      - setWeight: 20\n      - analysis:\n"
                           "          templates: [{templateName: t}]\n" + rules +
                           "---\napiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: t}\nspec:\n" +
                           args + "  metrics:\n  - name: ttft-latency\n    interval: 1m\n    count: 3\n"
                           "    successCondition: result[0] < 2\n    provider:\n      prometheus:\n        query: '" + query +
                           "'\n";
    return import_policy("argo", {path});
  };
  const std::string ttft = "histogram_quantile(0.9, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{role=\"canary\"}[2m])))";
  const auto refused = [&](const std::string& rules, const std::string& query, const std::string& args,
                           const std::string& part) {
    try {
      import(rules, query, args);
      ADD_FAILURE() << "imported: " << part;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  const auto dry = [](const std::string& pattern) { return "          dryRun: [{metricName: '" + pattern + "'}]\n"; };
  // A rule is found anywhere in the name, as Go's regexp.MatchString finds it, and Go's
  // leading flag group is read.
  EXPECT_TRUE(import(dry("latency"), ttft).rules.empty());
  EXPECT_TRUE(import(dry("(?i)^TTFT"), ttft).rules.empty());
  refused(dry("^latency"), ttft, "", "'^latency' matches none of the analysis's metrics: Argo ends the AnalysisRun in Error");
  refused(dry("(?<=ttft)-latency"), ttft, "", "is not a pattern Go's regexp compiles (a backreference or a lookaround)");
  refused(dry("(?P<x>ttft)"), ttft, "", "is a pattern canarysim cannot read as Go's regexp does, so which metrics it marks is unknown");
  refused("          dryRun: [{metricName: ttft}, {metricName: ttft}]\n", ttft, "",
          "is a second dryRun rule for the same name (the first at ");
  // Every {{...}} of a metric is an argument the template declares, spaces aside.
  const std::string with_arg = "  args: [{name: role, value: canary}]\n";
  const std::string by_arg = "histogram_quantile(0.9, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{role=\"{{ args.role }}\"}[2m])))";
  const Imported filled = import("", by_arg, with_arg);
  ASSERT_EQ(filled.rules.size(), 1u);
  EXPECT_NE(filled.rules[0].find("ttft_p90 < 2s"), std::string::npos) << filled.rules[0];
  refused("", by_arg, "", "{{ args.role }} names an argument the template does not declare: Argo fails to resolve it");
  refused("", by_arg.substr(0, by_arg.find("{{ args")) + "{{ .Values.role }}\"}[2m])))", with_arg,
          "is a Helm template directive");  // found with the file, before any metric
  refused("", by_arg.substr(0, by_arg.find("}}")), with_arg, "opens a {{ with no }}");
  // An AnalysisTemplate is found in the Rollout's namespace only.
  std::ofstream(path) << "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r, namespace: llm}\nspec:\n"
                         "  strategy:\n    canary:\n      steps:\n      - setWeight: 20\n"
                         "      - analysis: {templates: [{templateName: t}]}\n---\napiVersion: argoproj.io/v1alpha1\n"
                         "kind: AnalysisTemplate\nmetadata: {name: t, namespace: platform}\nspec:\n  metrics:\n"
                         "  - name: ttft\n    interval: 1m\n    count: 2\n    successCondition: result[0] < 2\n"
                         "    provider: {prometheus: {query: '" + ttft + "'}}\n";
  try {
    import_policy("argo", {path});
    ADD_FAILURE() << "imported";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("Argo looks up AnalysisTemplate t in the Rollout's namespace llm"),
              std::string::npos) << e.what();
  }
  // Argo reads a metric's interval with Go's time.ParseDuration, which wants a unit.
  refused("", ttft + "'\n    initialDelay: '30", "", "initialDelay 30 has no unit, and Argo reads it with Go's "
          "time.ParseDuration");
  // One provider a metric, as Argo's ValidateMetric requires.
  refused("", ttft + "'\n      web:\n        url: 'http://x/health", "",
          "2 providers (prometheus, web): Argo's AnalysisRun ends in Error at its start (\"multiple providers specified\")");
}

TEST(ImportTest, AStrategyArgosValidationMarksInvalidSpecIsRefusedWhereWritten) {
  // ValidateRolloutStrategyCanary: a Rollout it rejects never rolls out, so nothing is
  // simulated. Each case is one slip in an otherwise valid Rollout.
  const std::string path = ::testing::TempDir() + "invalid-spec.yaml";
  const std::string services = "      canaryService: c\n      stableService: s\n";
  const std::string istio = "      trafficRouting:\n        managedRoutes: [{name: m}]\n"
                            "        istio: {virtualService: {name: vs}}\n";
  const std::string steps = "      steps:\n      - setWeight: 20\n      - pause: {duration: 5m}\n";
  const auto import = [&](const std::string& canary) {
    std::ofstream(path) << "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n  strategy:\n"
                           "    canary:\n" + canary;
    return import_policy("argo", {path});
  };
  EXPECT_NO_THROW(import(steps + "      - {setWeight: 40, pause: null}\n"));  // the null is dropped: one action
  EXPECT_NO_THROW(import(services + istio + steps + "      - setMirrorRoute: {name: m, percentage: 10}\n"
                         "      - setCanaryScale: {weight: 20}\n"));
  const std::pair<std::string, std::string> cases[] = {
      {steps + "      - setCanaryScale: {weight: 20}\n", "setCanaryScale without trafficRouting"},
      {services + "      trafficRouting: {nginx: {stableIngress: i}, managedRoutes: [{name: m}]}\n" + steps +
           "      - setMirrorRoute: {name: m, percentage: 10}\n", "setMirrorRoute without an Istio router"},
      {services + istio + steps + "      - setMirrorRoute: {name: other, percentage: 10}\n",
       "route 'other' is not among trafficRouting.managedRoutes"},
      {istio + steps, "this router shifts traffic between canaryService and stableService, and canaryService is not given"},
      {"      canaryService: same\n      stableService: same\n" + steps, "the stable service is the canary's"},
      {"      scaleDownDelaySeconds: 30\n" + steps, "scaleDownDelaySeconds without trafficRouting"},
      {steps + "      - {}\n", "an empty step"},
      {steps + "      - pause:\n", "a step whose only action, pause, is null (`- pause:` with no value: the API server "
       "drops it, leaving an empty step; `- pause: {}` pauses until promoted)"},
      {steps + "      - {setWeight: null}\n", "a step whose only action, setWeight, is null (`- setWeight:` with no "
       "value: the API server drops it, leaving an empty step)"},
      {steps + "      - setWeigth: 40\n", "a step with none of Argo's actions (it has setWeigth: did you mean setWeight?; Argo's are setWeight, "
       "pause, analysis, experiment, setCanaryScale, setHeaderRoute, setMirrorRoute, plugin)"},
      {steps + "      - {setWeight: 40, analysis: {templates: []}}\n", "a step with 2 actions (setWeight, analysis)"},
  };
  for (const auto& [canary, part] : cases) {
    SCOPED_TRACE(part);
    try {
      import(canary);
      ADD_FAILURE() << "imported";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(part + ": Argo's validation marks the Rollout InvalidSpec"), std::string::npos)
          << e.what();
    }
  }
  // A step analysis with no templates passes validation, and its run, with no metrics, errs.
  try {
    import(steps + "      - analysis: {templates: []}\n");
    ADD_FAILURE() << "imported";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("an analysis with no templates: Argo creates its AnalysisRun with no metrics"),
              std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(import("      analysis: {templates: []}\n" + steps));  // a background one runs nothing
}

TEST(ImportTest, AFlaggerIntervalItsCrdRejectsIsRefused) {
  // Flagger's CRD gives its intervals the pattern ^[0-9]+(m|s): 90s, 2m, 1m30s pass; an
  // hour, or seconds without a unit, are rejected by the API server.
  const std::string path = ::testing::TempDir() + "flagger-interval.yaml";
  const auto import = [&](const std::string& analysis, const std::string& metric) {
    std::ofstream(path) << "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata: {name: c}\nspec:\n"
                           "  targetRef: {apiVersion: apps/v1, kind: Deployment, name: c}\n  service: {port: 80}\n"
                           "  analysis:\n    interval: " + analysis + "\n    threshold: 2\n    maxWeight: 50\n"
                           "    stepWeight: 10\n    metrics:\n    - name: request-success-rate\n"
                           "      thresholdRange: {min: 99}\n      interval: " + metric + "\n";
    return import_policy("flagger", {path});
  };
  EXPECT_NO_THROW(import("90s", "1m30s"));
  for (const auto& [analysis, metric, part] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"1h", "1m", "spec.analysis.interval: '1h' does not match the pattern Flagger's CRD gives an interval"},
           {"1m", "60", "spec.analysis.metrics[0].interval: '60' does not match the pattern"}}) {
    try {
      import(analysis, metric);
      ADD_FAILURE() << analysis << " " << metric;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  }
}

TEST(ImportTest, SetWeightCountsUnitsOfMaxTrafficWeight) {
  // With trafficRouting.maxTrafficWeight: 1000, setWeight: 5 is half a percent.
  const std::string path = ::testing::TempDir() + "max-traffic-weight.yaml";
  const auto import = [&](const std::string& routing, const std::string& last) {
    std::ofstream(path) << "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n  strategy:\n"
                           "    canary:\n" + routing + "      steps:\n      - setWeight: 5\n      - pause: {duration: 5m}\n"
                           "      - setWeight: " + last + "\n";
    return import_policy("argo", {path});
  };
  // (A router needs both Services; Argo reads maxTrafficWeight through NGINX or a plugin.)
  const std::string services = "      canaryService: c\n      stableService: s\n";
  const std::string nginx = services + "      trafficRouting:\n        maxTrafficWeight: 1000\n        nginx: {stableIngress: ing}\n";
  const Imported fine = import(nginx, "1000");
  EXPECT_NE(fine.yaml.find("steps:\n  - setWeight: 0.5\n"), std::string::npos) << fine.yaml;
  EXPECT_NE(fine.yaml.find("- setWeight: 100\n"), std::string::npos) << fine.yaml;
  EXPECT_NE(fine.yaml.find("# note: maxTrafficWeight 1000 ("), std::string::npos) << fine.yaml;
  EXPECT_TRUE(Warned(fine, "spec.strategy.canary.trafficRouting.nginx: not simulated"));  // the router itself
  // A weight above the maximum is refused where written; without maxTrafficWeight, percents.
  EXPECT_THROW(import(nginx, "1001"), InputError);
  const Imported percent = import(services + "      trafficRouting: {istio: {virtualService: {name: vs}}}\n", "100");
  EXPECT_NE(percent.yaml.find("steps:\n  - setWeight: 5\n"), std::string::npos) << percent.yaml;
  EXPECT_TRUE(Warned(percent, "spec.strategy.canary.trafficRouting: not simulated"));
  EXPECT_FALSE(Warned(percent, "not a whole number"));
  // Argo's weights are integers: a fraction is read as written, and said.
  const Imported half = import("", "50.5");
  EXPECT_NE(half.yaml.find("- setWeight: 50.5\n"), std::string::npos) << half.yaml;
  EXPECT_TRUE(Warned(half, "steps[2].setWeight: 50.5 is not a whole number, and Argo's setWeight is one"));
}

TEST(ImportTest, AwsPredefinedStrategies) {
  const Imported canary = import_policy("aws", {"CodeDeployDefault.LambdaCanary10Percent5Minutes"});
  EXPECT_NE(canary.yaml.find("bake_time: 300s"), std::string::npos) << canary.yaml;
  EXPECT_DOUBLE_EQ(Load(canary)->make()->initial_weight(), 0.10);
  const Imported linear = import_policy("aws", {"AppConfig.Linear20PercentEvery6Minutes"});
  EXPECT_NE(linear.yaml.find("final_bake: 1800s"), std::string::npos) << linear.yaml;
  EXPECT_TRUE(Warned(linear, "CloudWatch alarms"));
  Load(import_policy("aws", {"AppConfig.Linear50PercentEvery30Seconds"}));
  Load(import_policy("aws", {"CodeDeployDefault.ECSLinear10PercentEvery1Minutes"}));
  EXPECT_THROW(import_policy("aws", {"CodeDeployDefault.Nonsense"}), InputError);
  // EC2's in-place configurations count hosts, not traffic: refused as such.
  try {
    import_policy("aws", {"CodeDeployDefault.HalfAtATime"});
    ADD_FAILURE() << "imported";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("an EC2/on-premises in-place configuration"), std::string::npos) << e.what();
  }
  EXPECT_THROW(import_policy("aws", {"no/such/deployment.json"}), MissingFileError);
}

TEST(ImportTest, AwsDeploymentConfigFilesAreBounded) {
  // A step so small it makes thousands of steps is refused, naming the key.
  const std::string path = ::testing::TempDir() + "tiny-step.json";
  std::ofstream(path) << R"({"DeploymentConfig": {"RollingUpdatePolicy": {"MaximumBatchSize":
      {"Type": "CAPACITY_PERCENT", "Value": 0.05}, "WaitIntervalInSeconds": 60}}})";
  try {
    import_policy("aws", {path});
    ADD_FAILURE() << "imported";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("a step of 0.05 % makes over 1,000 steps"), std::string::npos) << e.what();
  }
  // A 1 % step is a hundred: read.
  std::ofstream(path) << R"({"DeploymentConfig": {"RollingUpdatePolicy": {"MaximumBatchSize":
      {"Type": "CAPACITY_PERCENT", "Value": 1}, "WaitIntervalInSeconds": 60}}})";
  EXPECT_NE(import_policy("aws", {path}).yaml.find("- setWeight: 99\n"), std::string::npos);
}

TEST(ImportTest, AwsKeysNotReadAreSaidInEverySpelling) {
  // The AWS reader takes a key in any of its tools' spellings; a key it does not read is
  // still said: a misspelt WaitIntervalInSeconds would make a deployment that never bakes.
  const std::string path = ::testing::TempDir() + "misspelt.json";
  const auto import = [&](const std::string& text) {
    std::ofstream(path) << text;
    return import_policy("aws", {path});
  };
  const Imported api = import(R"({"DeploymentConfig": {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration":
      {"Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10, "Unit": "x"},
       "WaitIntervalInSecond": 600}}, "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "p99", "Severity": 1}]},
       "Rollback": true}})");
  EXPECT_NE(api.yaml.find("bake_time: 0s"), std::string::npos) << api.yaml;  // what the file says, as written
  EXPECT_TRUE(Warned(api, "TrafficRoutingConfiguration.WaitIntervalInSecond: not a key the tool reads (did you mean "
                          "'WaitIntervalInSeconds'?)"));
  EXPECT_TRUE(Warned(api, "CanarySize.Unit: not simulated; ignored"));
  EXPECT_TRUE(Warned(api, "Alarms[0].Severity: not simulated; ignored"));
  EXPECT_TRUE(Warned(api, "DeploymentConfig.Rollback: not simulated; ignored"));
  // Terraform's spelling: a slip in it is named too; attributes and blocks set to nothing
  // (null, []), as `terraform show -json` writes those not given, are not.
  const Imported tf = import(R"({"deployment_config": [{"blue_green_update_policy": [{"traffic_routing_configuration":
      [{"type": "LINEAR", "linear_step_size": [{"type": "CAPACITY_PERCENT", "value": 25}], "canary_size": [],
        "wait_interval_in_second": 300}], "maximum_execution_timeout_in_seconds": null,
        "termination_wait_in_seconds": 0}], "auto_rollback_configuration": []}]})");
  EXPECT_TRUE(Warned(tf, "wait_interval_in_second: not a key the tool reads (did you mean 'WaitIntervalInSeconds'?)"));
  EXPECT_EQ(tf.warnings.size(), 3u) << tf.warnings.front();  // and: no alarms, so no rule
  // Spelt right, in either spelling, nothing is said of the keys.
  const Imported right = import(R"({"deployment_config": [{"blue_green_update_policy": [{"traffic_routing_configuration":
      [{"type": "LINEAR", "linear_step_size": [{"type": "CAPACITY_PERCENT", "value": 25}],
        "wait_interval_in_seconds": 300}]}]}]})");
  EXPECT_NE(right.yaml.find("- setWeight: 25\n  - pause:\n      duration: 300s"), std::string::npos) << right.yaml;
  EXPECT_EQ(right.warnings.size(), 2u) << right.warnings.front();  // no alarms, so no rule
  const Imported codedeploy = import(R"({"trafficRoutingConfig": {"type": "TimeBasedCanary",
      "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 5, "canaryIntervalUnit": "m"}}})");
  EXPECT_TRUE(Warned(codedeploy, "timeBasedCanary.canaryIntervalUnit: not simulated; ignored"));
}

TEST(ImportTest, MissingFilesAndUnknownToolsAreInputErrors) {
  EXPECT_THROW(import_policy("argo", {"/no/such/rollout.yaml"}), MissingFileError);
  EXPECT_THROW(import_policy("spinnaker", {"x"}), InputError);
}

}  // namespace
}  // namespace canarysim
