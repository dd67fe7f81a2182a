#include "policies/import.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <regex>

#include "sim/config.h"

namespace canarysim {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<YAML::Node> load_documents(const std::string& path) {
  if (!std::filesystem::exists(path)) throw MissingFileError(path + ": no such file");
  try {
    return YAML::LoadAllFromFile(path);
  } catch (const YAML::ParserException& e) {
    throw InputError(path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                     ": invalid YAML: " + e.msg);
  }
}

std::string emit(const YAML::Node& n) {
  YAML::Emitter out;
  out << n;
  return std::string(out.c_str()) + "\n";
}

// Argo and Flagger durations are "10m" strings or whole seconds.
std::string duration_text(const YAML::Node& n) {
  const std::string s = n.Scalar();
  if (!s.empty() && std::all_of(s.begin(), s.end(), ::isdigit)) return s + "s";
  return s;
}

class Importer {
 public:
  Imported out;
  void warn(const std::string& w) { out.warnings.push_back(w); }
  // Warns about every key of `node` not in `known`, under the dotted `where`.
  void unsupported(const YAML::Node& node, const std::string& where, std::initializer_list<const char*> known,
                   const std::string& why = "not simulated") {
    if (!node || !node.IsMap()) return;
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      if (std::find_if(known.begin(), known.end(), [&](const char* k) { return key == k; }) == known.end())
        warn(where + "." + key + ": " + why);
    }
  }
};

}  // namespace

std::string metric_for_query(const std::string& query) {
  const std::string q = lower(query);
  std::string pct = "99";
  std::smatch m;
  static const std::regex quantile(R"(histogram_quantile\s*\(\s*0?\.(\d+))");
  if (std::regex_search(q, m, quantile)) pct = m[1].str();
  if (pct.size() == 1) pct += "0";  // 0.9 -> 90
  auto has = [&](std::initializer_list<const char*> words) {
    return std::any_of(words.begin(), words.end(), [&](const char* w) { return q.find(w) != std::string::npos; });
  };
  if (has({"time_to_first_token", "ttft", "first_token"})) return "ttft_p" + pct;
  if (has({"inter_token", "time_per_output_token", "itl", "tpot"})) return "itl_p" + pct;
  if (has({"hallucination"})) return "hallucination_rate";
  if (has({"unsafe", "jailbreak"})) return "unsafe_rate";
  if (has({"quality", "judge_score"})) return "quality_mean";
  if (has({"cost"})) return "cost_per_request";
  const bool errors = has({"5..", "5.*", "5xx", "=~\"5", "error", "fail"});
  if (errors) {
    // A success rate: non-errors (!~ "5..") over all requests.
    if (has({"!~\"5", "!~'5", "!=\"5", "success"})) return "success_rate";
    return "error_rate";
  }
  if (has({"duration", "latency", "e2e", "response_time"})) return "latency_p" + pct;
  return "";
}

namespace {

// ---------------------------------------------------------------------------------
// Argo Rollouts: a Rollout and AnalysisTemplates, in any number of files and documents.

Imported import_argo(const std::vector<std::string>& inputs) {
  Importer im;
  YAML::Node rollout;
  std::map<std::string, YAML::Node> templates;
  std::string rollout_file;
  for (const std::string& path : inputs) {
    for (const YAML::Node& doc : load_documents(path)) {
      const std::string kind = doc["kind"] ? doc["kind"].Scalar() : "";
      if (kind == "Rollout") {
        rollout = doc;
        rollout_file = path;
      } else if (kind == "AnalysisTemplate" || kind == "ClusterAnalysisTemplate") {
        templates[doc["metadata"]["name"].Scalar()] = doc;
      } else if (!kind.empty()) {
        im.warn(path + ": a " + kind + " is not part of a rollout policy; ignored");
      }
    }
  }
  if (!rollout) throw InputError(inputs.front() + ": no Rollout found; expected kind: Rollout");
  const YAML::Node canary = rollout["spec"]["strategy"]["canary"];
  if (!canary) throw InputError(rollout_file + ": spec.strategy.canary: missing; expected a canary strategy");
  im.unsupported(rollout["spec"]["strategy"], "spec.strategy", {"canary"});
  im.unsupported(canary, "spec.strategy.canary", {"steps", "analysis"},
                 "not simulated (canarysim routes by weight with sticky users)");

  YAML::Node out;
  out["kind"] = "argo";
  std::vector<std::string> used;
  YAML::Node steps(YAML::NodeType::Sequence);
  const YAML::Node in_steps = canary["steps"];
  for (size_t i = 0; in_steps && i < in_steps.size(); ++i) {
    const YAML::Node s = in_steps[i];
    const std::string where = "spec.strategy.canary.steps[" + std::to_string(i) + "]";
    YAML::Node step;
    if (s["setWeight"]) {
      step["setWeight"] = s["setWeight"].as<double>();
    } else if (s["pause"]) {
      YAML::Node pause(YAML::NodeType::Map);
      if (s["pause"]["duration"]) pause["duration"] = duration_text(s["pause"]["duration"]);
      step["pause"] = pause;
    } else if (s["analysis"]) {
      YAML::Node refs(YAML::NodeType::Sequence);
      for (const YAML::Node& t : s["analysis"]["templates"]) {
        YAML::Node ref;
        ref["templateName"] = t["templateName"].Scalar();
        used.push_back(t["templateName"].Scalar());
        refs.push_back(ref);
      }
      step["analysis"]["templates"] = refs;
      if (s["analysis"]["args"]) im.warn(where + ".analysis.args: not substituted; queries map to canarysim metrics");
    } else {
      im.warn(where + ": " + (s.IsMap() && s.size() ? s.begin()->first.Scalar() : std::string("step")) +
              " is not simulated; skipped");
      continue;
    }
    steps.push_back(step);
  }
  out["steps"] = steps;
  if (const YAML::Node bg = canary["analysis"]) {
    YAML::Node refs(YAML::NodeType::Sequence);
    for (const YAML::Node& t : bg["templates"]) {
      YAML::Node ref;
      ref["templateName"] = t["templateName"].Scalar();
      used.push_back(t["templateName"].Scalar());
      refs.push_back(ref);
    }
    out["analysis"]["templates"] = refs;
    if (bg["startingStep"]) out["analysis"]["startingStep"] = bg["startingStep"].as<int>();
    if (bg["args"]) im.warn("spec.strategy.canary.analysis.args: not substituted; queries map to canarysim metrics");
  }
  for (const std::string& name : used) {
    if (out["templates"][name]) continue;
    const auto it = templates.find(name);
    if (it == templates.end()) throw InputError("templates: no AnalysisTemplate named '" + name + "' in the files given");
    const std::string where = "AnalysisTemplate " + name;
    const YAML::Node spec = it->second["spec"];
    im.unsupported(spec, where + ".spec", {"metrics", "args"});
    YAML::Node metrics(YAML::NodeType::Sequence);
    for (const YAML::Node& m : spec["metrics"]) {
      const std::string mwhere = where + ".metrics." + m["name"].Scalar();
      YAML::Node o;
      o["name"] = m["name"].Scalar();
      for (const char* key : {"interval", "initialDelay"})
        if (m[key]) o[key] = duration_text(m[key]);
      for (const char* key : {"count", "failureLimit", "inconclusiveLimit", "consecutiveErrorLimit"}) {
        if (!m[key]) continue;
        if (m[key].Scalar().find("{{") != std::string::npos) {
          im.warn(mwhere + "." + key + ": a template argument; left at Argo's default");
          continue;
        }
        o[key] = m[key].as<int>();
      }
      for (const char* key : {"successCondition", "failureCondition"})
        if (m[key]) o[key] = m[key].Scalar();
      im.unsupported(m, mwhere, {"name", "interval", "initialDelay", "count", "failureLimit", "inconclusiveLimit",
                                 "consecutiveErrorLimit", "successCondition", "failureCondition", "provider"});
      std::string query;
      const YAML::Node provider = m["provider"];
      for (const auto& kv : provider) {
        const YAML::Node p = kv.second;
        for (const char* key : {"query", "metricName", "expression"})
          if (p[key]) query += p[key].Scalar() + " ";
        if (query.empty()) im.warn(mwhere + ".provider." + kv.first.Scalar() + ": no query canarysim can read");
      }
      const std::string metric = metric_for_query(query);
      if (metric.empty()) {
        im.warn(mwhere + ": no canarysim metric for query '" + query + "'; metric dropped (see policies/import.h)");
        continue;
      }
      o["provider"]["query"] = metric;
      metrics.push_back(o);
    }
    if (metrics.size() == 0) throw InputError(where + ": no metric could be mapped to a canarysim metric");
    out["templates"][name]["metrics"] = metrics;
  }
  im.out.yaml = "# Imported from Argo Rollouts (" + rollout_file + ") by canarysim import.\n" + emit(out);
  return im.out;
}

// ---------------------------------------------------------------------------------
// Flagger: a Canary, and MetricTemplates for its custom metrics.

Imported import_flagger(const std::vector<std::string>& inputs) {
  Importer im;
  YAML::Node canary;
  std::map<std::string, std::string> template_queries;
  for (const std::string& path : inputs) {
    for (const YAML::Node& doc : load_documents(path)) {
      const std::string kind = doc["kind"] ? doc["kind"].Scalar() : "";
      if (kind == "Canary") canary = doc;
      else if (kind == "MetricTemplate") template_queries[doc["metadata"]["name"].Scalar()] = doc["spec"]["query"].Scalar();
      else if (!kind.empty()) im.warn(path + ": a " + kind + " is not part of a rollout policy; ignored");
    }
  }
  if (!canary) throw InputError(inputs.front() + ": no Canary found; expected kind: Canary");
  const YAML::Node spec = canary["spec"];
  im.unsupported(spec, "spec", {"analysis"}, "not simulated (deployment, service and autoscaler wiring)");
  if (spec["skipAnalysis"] && spec["skipAnalysis"].as<bool>())
    im.warn("spec.skipAnalysis: true promotes without analysis in Flagger; canarysim runs the analysis");
  const YAML::Node a = spec["analysis"] ? spec["analysis"] : spec["canaryAnalysis"];
  if (!a) throw InputError(inputs.front() + ": spec.analysis: missing; expected Flagger's analysis");
  im.unsupported(a, "spec.analysis",
                 {"interval", "threshold", "maxWeight", "stepWeight", "stepWeights", "stepWeightPromotion", "metrics"});
  YAML::Node out;
  out["kind"] = "flagger";
  for (const char* key : {"interval"})
    if (a[key]) out[key] = duration_text(a[key]);
  for (const char* key : {"threshold", "maxWeight", "stepWeight", "stepWeightPromotion"})
    if (a[key]) out[key] = a[key].as<double>();
  if (a["stepWeights"]) out["stepWeights"] = a["stepWeights"];
  YAML::Node metrics(YAML::NodeType::Sequence);
  for (const YAML::Node& m : a["metrics"]) {
    const std::string name = m["name"].Scalar();
    YAML::Node o;
    if (m["templateRef"]) {
      const std::string ref = m["templateRef"]["name"].Scalar();
      const auto it = template_queries.find(ref);
      const std::string metric = it == template_queries.end() ? "" : metric_for_query(it->second);
      if (metric.empty()) {
        im.warn("spec.analysis.metrics." + name + ": " +
                (it == template_queries.end() ? "MetricTemplate '" + ref + "' not among the files given"
                                              : "no canarysim metric for its query") + "; metric dropped");
        continue;
      }
      if (metric == "success_rate") {
        im.warn("spec.analysis.metrics." + name + ": a success ratio; judged as request-success-rate (percent)");
        o["name"] = "request-success-rate";
      } else {
        o["name"] = metric;
      }
    } else if (name == "request-success-rate" || name == "request-duration") {
      o["name"] = name;
    } else {
      im.warn("spec.analysis.metrics." + name + ": neither built in nor a templateRef; metric dropped");
      continue;
    }
    if (m["thresholdRange"]) o["thresholdRange"] = m["thresholdRange"];
    if (m["threshold"]) o["thresholdRange"][name == "request-duration" ? "max" : "min"] = m["threshold"].as<double>();
    if (m["interval"]) o["interval"] = duration_text(m["interval"]);
    metrics.push_back(o);
  }
  if (metrics.size() == 0) throw InputError(inputs.front() + ": spec.analysis.metrics: no metric canarysim can judge");
  out["metrics"] = metrics;
  im.out.yaml = "# Imported from a Flagger Canary (" + inputs.front() + ") by canarysim import.\n" + emit(out);
  return im.out;
}

// ---------------------------------------------------------------------------------
// Kayenta: a canary config (JSON).

Imported import_kayenta(const std::vector<std::string>& inputs, const ImportOptions& opt) {
  Importer im;
  const std::vector<YAML::Node> docs = load_documents(inputs.front());
  if (docs.empty() || !docs[0]["metrics"]) throw InputError(inputs.front() + ": metrics: missing; expected a Kayenta canary config");
  const YAML::Node cfg = docs[0];
  im.unsupported(cfg, "config", {"metrics", "classifier", "name", "description", "configVersion", "applications",
                                 "judge", "templates", "createdTimestamp", "updatedTimestamp", "createdTimestampIso",
                                 "updatedTimestampIso", "id"});
  YAML::Node out;
  out["kind"] = "kayenta";
  out["weight"] = opt.weight_percent;
  out["lifetime"] = opt.lifetime;
  out["interval"] = opt.interval;
  out["step"] = "1m";
  im.warn("schedule: lifetime " + opt.lifetime + ", interval " + opt.interval + ", weight " +
          std::to_string(static_cast<int>(opt.weight_percent)) +
          " % from the command line (a Kayenta config holds no schedule; Spinnaker's stage does)");
  YAML::Node metrics(YAML::NodeType::Sequence);
  for (const YAML::Node& m : cfg["metrics"]) {
    const std::string name = m["name"].Scalar();
    const std::string where = "metrics." + name;
    std::string query;
    for (const auto& kv : m["query"])
      if (kv.second.IsScalar()) query += kv.second.Scalar() + " ";
    const std::string metric = metric_for_query(query + " " + name);
    if (metric.empty() || metric == "success_rate") {
      im.warn(where + ": no canarysim metric for query '" + query + "'; metric dropped");
      continue;
    }
    YAML::Node o;
    o["name"] = name;
    o["metric"] = metric;
    o["groups"] = m["groups"];
    const YAML::Node c = m["analysisConfigurations"]["canary"];
    if (c["direction"]) o["direction"] = c["direction"].Scalar();
    if (c["critical"]) o["critical"] = c["critical"].as<bool>();
    if (const YAML::Node e = c["effectSize"]) {
      if (e["measure"]) o["effect_size"]["measure"] = e["measure"].Scalar();
      for (const auto& [from, to] : std::vector<std::pair<const char*, const char*>>{
               {"allowedIncrease", "allowed_increase"}, {"criticalIncrease", "critical_increase"},
               {"allowedDecrease", "allowed_decrease"}, {"criticalDecrease", "critical_decrease"}})
        if (e[from]) o["effect_size"][to] = e[from].as<double>();
    }
    im.unsupported(c, where + ".analysisConfigurations.canary", {"direction", "critical", "effectSize", "nanStrategy"});
    if (c["nanStrategy"] && c["nanStrategy"].Scalar() == "replace")
      im.warn(where + ": nanStrategy replace; canarysim removes missing points");
    metrics.push_back(o);
  }
  if (metrics.size() == 0) throw InputError(inputs.front() + ": metrics: none maps to a canarysim metric");
  out["metrics"] = metrics;
  const YAML::Node cl = cfg["classifier"];
  out["classifier"]["group_weights"] = cl["groupWeights"];
  if (cl["scoreThresholds"]) {
    out["classifier"]["score_thresholds"]["pass"] = cl["scoreThresholds"]["pass"].as<double>();
    out["classifier"]["score_thresholds"]["marginal"] = cl["scoreThresholds"]["marginal"].as<double>();
  } else {
    out["classifier"]["score_thresholds"]["pass"] = 95;
    out["classifier"]["score_thresholds"]["marginal"] = 75;
    im.warn("classifier.scoreThresholds: not in the config (Spinnaker's stage sets them); pass 95, marginal 75");
  }
  im.out.yaml = "# Imported from a Kayenta canary config (" + inputs.front() + ") by canarysim import.\n" + emit(out);
  return im.out;
}

// ---------------------------------------------------------------------------------
// AWS CodeDeploy and AppConfig predefined strategies.

Imported import_aws(const std::vector<std::string>& names) {
  Importer im;
  if (names.size() != 1) throw InputError("aws: expected one predefined strategy name");
  const std::string& name = names.front();
  std::vector<double> steps;
  double bake_s = 0, final_bake_s = 0;
  std::smatch m;
  static const std::regex canary(R"(CodeDeployDefault\.(Lambda|ECS)Canary(\d+)Percent(\d+)Minutes?)");
  static const std::regex linear(R"(CodeDeployDefault\.(Lambda|ECS)Linear(\d+)PercentEvery(\d+)Minutes?)");
  if (std::regex_match(name, m, canary)) {
    steps = {std::stod(m[2]), 100};
    bake_s = 60 * std::stod(m[3]);
  } else if (std::regex_match(name, m, linear)) {
    const double pct = std::stod(m[2]);
    for (double w = pct; w < 100 - 1e-9; w += pct) steps.push_back(w);
    steps.push_back(100);
    bake_s = 60 * std::stod(m[3]);
  } else if (name == "CodeDeployDefault.LambdaAllAtOnce" || name == "CodeDeployDefault.ECSAllAtOnce") {
    steps = {100};
  } else if (name == "AppConfig.AllAtOnce") {
    steps = {100};
    final_bake_s = 600;
  } else if (name == "AppConfig.Linear50PercentEvery30Seconds") {
    steps = {50, 100};
    bake_s = 30;
    final_bake_s = 60;
  } else if (name == "AppConfig.Linear20PercentEvery6Minutes") {
    steps = {20, 40, 60, 80, 100};
    bake_s = 360;
    final_bake_s = 1800;
  } else if (name == "AppConfig.Canary10Percent20Minutes") {
    steps = {10, 20, 40, 80, 100};  // exponential, growth factor 10 %, over 20 minutes
    bake_s = 300;
    final_bake_s = 600;
  } else {
    throw InputError(name + ": not a predefined strategy; expected CodeDeployDefault.(Lambda|ECS)Canary<P>Percent<M>Minutes, "
                            "...Linear<P>PercentEvery<M>Minutes, ...AllAtOnce, or AppConfig.AllAtOnce, "
                            "AppConfig.Linear50PercentEvery30Seconds, AppConfig.Linear20PercentEvery6Minutes, "
                            "AppConfig.Canary10Percent20Minutes");
  }
  YAML::Node out;
  out["kind"] = "stepped";
  if (steps.size() == 1) {  // all at once: a step of 100 would promote at once, before any alarm
    steps = {100};
  }
  YAML::Node s(YAML::NodeType::Sequence);
  for (double w : steps) s.push_back(w);
  out["steps"] = s;
  out["bake_time"] = std::to_string(static_cast<int>(bake_s)) + "s";
  out["interval"] = bake_s > 0 && bake_s < 60 ? std::to_string(static_cast<int>(bake_s)) + "s" : "1m";
  if (final_bake_s > 0) out["final_bake"] = std::to_string(static_cast<int>(final_bake_s)) + "s";
  out["failure_limit"] = 0;
  YAML::Node check;
  check["name"] = "cloudwatch-alarm";
  check["metric"] = "error_rate";
  check["max"] = "1%";
  out["checks"].push_back(check);
  im.warn("checks: " + name + " rolls back on the CloudWatch alarms attached to the deployment, which a "
          "strategy name does not carry; canarysim adds an alarm on an error rate above 1 %: replace it with yours");
  if (steps.size() == 1 && final_bake_s == 0)
    im.warn("steps: all at once with no bake: the new version takes all traffic at once and nothing judges it");
  im.out.yaml = "# Imported from the AWS predefined strategy " + name + " by canarysim import.\n" + emit(out);
  return im.out;
}

}  // namespace

Imported import_policy(const std::string& tool, const std::vector<std::string>& inputs, const ImportOptions& options) {
  if (inputs.empty()) throw InputError(tool + ": expected at least one input");
  try {
    if (tool == "argo") return import_argo(inputs);
    if (tool == "flagger") return import_flagger(inputs);
    if (tool == "kayenta") return import_kayenta(inputs, options);
    if (tool == "aws") return import_aws(inputs);
  } catch (const YAML::Exception& e) {
    throw InputError(inputs.front() + ": " + e.what());
  }
  throw InputError(tool + ": unknown tool; expected one of: argo, flagger, kayenta, aws");
}

}  // namespace canarysim
