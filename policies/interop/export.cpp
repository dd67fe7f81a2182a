#include "policies/interop/export.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <map>

#include "policies/checks.h"
#include "policies/expr.h"
#include "policies/interop/query.h"
#include "policies/interop/text.h"
#include "policies/policy.h"
#include "sim/io/config.h"
#include "sim/io/schema.h"

namespace canarysim {

const std::string& default_metric_mapping() {
  static const std::string text = R"MAP(# canarysim export-policy: the PromQL of each canarysim SLI.
#   $selector  the version's label matchers (selectors, below)
#   $window    the measurement window (Flagger: {{ interval }}, the metric's interval)
#   $quantile  the quantile of a pXX metric (0.99 for ttft_p99)
# Values are canarysim's units: seconds, and fractions for rates (export scales them).
# The names are vLLM's (vllm:*, and http_requests_total of its OpenAI server, whose
# status label is a class: 2xx, 5xx); quality, hallucination, unsafe and cost counters
# come from your evaluation pipeline, named here as such a pipeline would.
# export-policy reads every query back as import would and refuses one that would not
# round-trip, so an edited mapping cannot silently change a policy.
prometheus: http://prometheus.monitoring:9090
selectors:
  argo:
    canary: 'rollouts_pod_template_hash="{{args.canary-hash}}"'
    stable: 'rollouts_pod_template_hash="{{args.stable-hash}}"'
  flagger:
    canary: 'namespace="{{ namespace }}", pod=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"'
    stable: 'namespace="{{ namespace }}", pod=~"{{ target }}-primary-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"'
slis:
  error_rate: 'sum(rate(http_requests_total{$selector, status="5xx"}[$window])) / sum(rate(http_requests_total{$selector}[$window]))'
  success_rate: 'sum(rate(http_requests_total{$selector, status!="5xx"}[$window])) / sum(rate(http_requests_total{$selector}[$window]))'
  ttft: 'histogram_quantile($quantile, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{$selector}[$window])))'
  ttft_mean: 'sum(rate(vllm:time_to_first_token_seconds_sum{$selector}[$window])) / sum(rate(vllm:time_to_first_token_seconds_count{$selector}[$window]))'
  itl: 'histogram_quantile($quantile, sum by (le) (rate(vllm:request_time_per_output_token_seconds_bucket{$selector}[$window])))'
  itl_mean: 'sum(rate(vllm:request_time_per_output_token_seconds_sum{$selector}[$window])) / sum(rate(vllm:request_time_per_output_token_seconds_count{$selector}[$window]))'
  token_gap: 'histogram_quantile($quantile, sum by (le) (rate(vllm:inter_token_latency_seconds_bucket{$selector}[$window])))'
  token_gap_mean: 'sum(rate(vllm:inter_token_latency_seconds_sum{$selector}[$window])) / sum(rate(vllm:inter_token_latency_seconds_count{$selector}[$window]))'
  latency: 'histogram_quantile($quantile, sum by (le) (rate(vllm:e2e_request_latency_seconds_bucket{$selector}[$window])))'
  latency_mean: 'sum(rate(vllm:e2e_request_latency_seconds_sum{$selector}[$window])) / sum(rate(vllm:e2e_request_latency_seconds_count{$selector}[$window]))'
  output_tokens_mean: 'sum(rate(vllm:generation_tokens_total{$selector}[$window])) / sum(rate(vllm:request_success_total{$selector}[$window]))'
  quality_mean: 'avg(avg_over_time(llm_judge_quality_score{$selector}[$window]))'
  hallucination_rate: 'sum(rate(llm_hallucinations_total{$selector}[$window])) / sum(rate(vllm:request_success_total{$selector}[$window]))'
  unsafe_rate: 'sum(rate(llm_unsafe_responses_total{$selector}[$window])) / sum(rate(llm_adversarial_prompts_total{$selector}[$window]))'
  cost_per_request: 'sum(rate(llm_token_cost_total{$selector}[$window])) / sum(rate(http_requests_total{$selector}[$window]))'
)MAP";
  return text;
}

namespace {

// A PromQL duration (whole units only: 90s, 2m, 1500ms).
std::string prom_duration(double s) {
  const double ms = std::round(s * 1000);
  if (std::fmod(ms, 3600000) == 0) return number_text(ms / 3600000) + "h";
  if (std::fmod(ms, 60000) == 0) return number_text(ms / 60000) + "m";
  if (std::fmod(ms, 1000) == 0) return number_text(ms / 1000) + "s";
  return number_text(ms) + "ms";
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size())) s.replace(i, from.size(), to);
}

using namespace schema;
const Section kMapping{"metric mapping", "(top level)", "The PromQL each SLI stands for, for `export-policy --metrics` (`export-policy --print-metrics` writes the default, vLLM's names).", {
    {"prometheus", kText, "http://prometheus:9090", "", "the Prometheus address the exported templates query"},
    {"selectors", kMap, "", "", "TOOL: section selectors.TOOL (argo, flagger)"},
    {"slis", kMap, "", "", "SLI: its PromQL, with {{selector}} and {{window}} placeholders"},
}};
const Section kSelectors{"metric mapping", "selectors.TOOL", "How each version's series are selected in that tool's templates.", {
    {"canary", kText, "", "", "the canary's label selector"},
    {"stable", kText, "", "", "the stable version's label selector"},
}};

class Exporter {
 public:
  Exporter(const std::string& tool, const std::string& mapping_path)
      : mapping_(mapping_path.empty() ? ConfigMap::parse_string(default_metric_mapping(), "<default metric mapping>")
                                                    : ConfigMap::parse_file(mapping_path)) {
    mapping_.allow(kMapping);
    const ConfigMap sel = mapping_.map("selectors").map(tool);
    sel.allow(kSelectors);
    canary_ = sel.text("canary");
    stable_ = sel.text("stable");
  }
  std::string address() const { return mapping_.text("prometheus", "http://prometheus:9090"); }

  // The PromQL of a metric of one version (canary, baseline, ratio, difference), scaled
  // into the unit the conditions are written in. `window`: PromQL text or a template.
  // `ctx` resolves the selectors as import will; the query must read back as meant.
  std::string query(const ConfigMap& at, const std::string& key, const Metric& metric, const std::string& version,
                    double scale, const std::string& window, double window_s, const QueryContext& ctx) const {
    const ConfigMap slis = mapping_.map("slis");
    std::string sli = metric.name, quantile;
    if (metric.stat == Metric::Stat::kQuantile) {
      sli = metric.name.substr(0, metric.name.find("_p"));
      quantile = number_text(metric.quantile);
    }
    if (!slis.has(sli))
      at.reject(key, metric.name + ": the metric mapping " + mapping_.file() + " has no PromQL for '" + sli +
                         "' (slis." + sli + ")");
    auto one = [&](const std::string& selector) {
      std::string q = slis.text(sli);
      replace_all(q, "$selector", selector);
      replace_all(q, "$window", window);
      replace_all(q, "$quantile", quantile);
      return q;
    };
    std::string q;
    if (version == "canary") q = one(canary_);
    else if (version == "baseline") q = one(stable_);
    else if (version == "ratio") q = "(" + one(canary_) + ")\n/\n(" + one(stable_) + ")";
    else q = "(" + one(canary_) + ")\n-\n(" + one(stable_) + ")";
    if (scale != 1) q = "(" + q + ") * " + number_text(scale);
    // Read back as import will: a mapping that does not round-trip is refused here.
    const QueryMeaning m = read_query(q, "prometheus", ctx);
    const bool same = m.ok && m.metric == metric.name && m.version == version &&
                      std::abs(m.scale - scale) <= 1e-12 * std::abs(scale) && std::abs(m.window_s - window_s) < 1e-9;
    if (!same)
      at.reject(key, metric.name + " (" + version + "): the PromQL from " + mapping_.file() + " reads back as " +
                         (m.ok ? m.metric + " " + m.version + " scale " + number_text(m.scale) + " window " + number_text(m.window_s) + "s"
                               : "nothing (" + m.why + ")") +
                         ", so import would not give this policy back: " + q);
    return q;
  }

 private:
  ConfigMap mapping_;
  std::string canary_, stable_;
};

YAML::Node metadata(const std::string& name, const std::map<std::string, std::string>& annotations) {
  YAML::Node md;
  md["name"] = name;
  for (const auto& [k, v] : annotations) md["annotations"][k] = v;
  return md;
}

// ---------------------------------------------------------------------------------

// Whether x is a whole number, up to the rounding of a percent read as a fraction.
bool whole(double x) { return std::abs(x - std::round(x)) <= 1e-9; }

// A Flagger weight: a whole percent (its fields are integers, with no finer unit).
YAML::Node whole_percent(const ConfigMap& p, const char* key, double percent) {
  if (!whole(percent))
    p.reject(key, "whole percents: Flagger's weights are integers, so " + number_text(percent) + " % cannot be written");
  return YAML::Load(number_text(std::round(percent)));
}

Exported export_argo(const ConfigMap& p, Exporter& ex, const std::string& name) {
  Exported out;
  QueryContext ctx;
  ctx.variables["args.canary-hash"] = "{canary}";
  ctx.variables["args.stable-hash"] = "{stable}";
  YAML::Node hash_args(YAML::NodeType::Sequence);
  for (const auto& [arg, which] : std::vector<std::pair<const char*, const char*>>{{"canary-hash", "Latest"}, {"stable-hash", "Stable"}}) {
    YAML::Node a;
    a["name"] = arg;
    a["valueFrom"]["podTemplateHashValue"] = which;
    hash_args.push_back(a);
  }
  auto refs = [&](const ConfigMap& a) {
    YAML::Node analysis;
    for (const ConfigMap& r : a.maps("templates")) {
      YAML::Node ref;
      ref["templateName"] = r.text("templateName");
      analysis["templates"].push_back(ref);
    }
    analysis["args"] = YAML::Clone(hash_args);
    return analysis;
  };
  // Argo's weights are whole units of trafficRouting.maxTrafficWeight (default 100): a
  // weight that is not a whole percent is written in finer units, the fewest that make
  // every weight whole.
  double units = 100;
  for (const ConfigMap& s : p.maps("steps")) {
    if (!s.has("setWeight")) continue;
    const double w = s.percent("setWeight");
    while (units < 1e6 && !whole(w * units)) units *= 10;
    if (!whole(w * units)) s.reject("setWeight", "a weight Argo can write: whole parts of at most a million (maxTrafficWeight)");
  }
  YAML::Node steps(YAML::NodeType::Sequence);
  std::vector<std::string> mirrors;  // setMirrorRoute names, each once
  bool scaled = false;  // a setCanaryScale step
  for (const ConfigMap& s : p.maps("steps")) {
    YAML::Node step;
    if (s.has("setWeight")) {
      step["setWeight"] = YAML::Load(number_text(std::round(s.percent("setWeight") * units)));
    } else if (s.has("pause")) {
      step["pause"] = YAML::Node(YAML::NodeType::Map);
      if (s.is_map("pause") && s.map("pause").has("duration")) step["pause"]["duration"] = s.map("pause").text("duration");
    } else if (s.has("analysis")) {
      step["analysis"] = refs(s.map("analysis"));
    } else if (s.has("setCanaryScale")) {
      scaled = true;
      const ConfigMap c = s.map("setCanaryScale");
      if (c.has("weight")) step["setCanaryScale"]["weight"] = YAML::Load(number_text(c.percent("weight") * 100));
      else step["setCanaryScale"]["matchTrafficWeight"] = true;
    } else if (s.has("setMirrorRoute")) {
      const ConfigMap r = s.map("setMirrorRoute");
      const std::string route = r.text("name", "canarysim-mirror");
      step["setMirrorRoute"]["name"] = route;
      if (std::find(mirrors.begin(), mirrors.end(), route) == mirrors.end()) mirrors.push_back(route);
      if (units != 100)
        s.reject("setMirrorRoute", "a step Argo can run with these weights: it mirrors through Istio only, and weights "
                                   "finer than a percent (maxTrafficWeight " + number_text(units) + ") route through "
                                   "NGINX or a plugin only, so no traffic router Argo accepts does both");
      const double share = r.has("percentage") ? r.percent("percentage") : 1.0;
      if (share > 0) {
        step["setMirrorRoute"]["percentage"] = YAML::Load(number_text(share * 100));
        step["setMirrorRoute"]["match"][0]["path"]["prefix"] = "/";
      }
    }
    steps.push_back(step);
  }
  YAML::Node rollout;
  rollout["apiVersion"] = "argoproj.io/v1alpha1";
  rollout["kind"] = "Rollout";
  std::map<std::string, std::string> notes;
  const double tick = p.duration("tick", 10), drain = p.duration("rollback_drain", 0);
  if (tick != 10) {
    notes["canarysim.io/tick"] = p.text("tick");
    out.warnings.push_back(p.file() + ": tick " + p.text("tick") + ": Argo's controller has no such field; kept as the "
                           "annotation canarysim.io/tick, which import reads");
  }
  if (drain > 0) {
    notes["canarysim.io/rollback-drain"] = p.text("rollback_drain");
    out.warnings.push_back(p.file() + ": rollback_drain " + p.text("rollback_drain") + ": Argo aborts at once; kept as "
                           "the annotation canarysim.io/rollback-drain, which import reads");
  }
  rollout["metadata"] = metadata(name, notes);
  rollout["spec"]["workloadRef"]["apiVersion"] = "apps/v1";
  rollout["spec"]["workloadRef"]["kind"] = "Deployment";
  rollout["spec"]["workloadRef"]["name"] = name;
  // Argo's validation (ValidateRolloutStrategyCanary) wants a traffic router for
  // setCanaryScale and maxTrafficWeight (NGINX or a plugin for the latter), Istio for
  // setMirrorRoute with its routes among managedRoutes, and canaryService and
  // stableService with a router. Without them the Rollout is InvalidSpec, so they are
  // written, named after the Deployment, and said: the user points them at their own.
  if (units != 100 || scaled || !mirrors.empty()) {
    YAML::Node canary = rollout["spec"]["strategy"]["canary"];
    canary["canaryService"] = name + "-canary";
    canary["stableService"] = name + "-stable";
    std::string router;
    if (units != 100) {
      canary["trafficRouting"]["maxTrafficWeight"] = static_cast<int>(units);
      canary["trafficRouting"]["nginx"]["stableIngress"] = name;
      router = "NGINX's Ingress " + name + " (weights in parts of " + number_text(units) +
               ", trafficRouting.maxTrafficWeight, which Argo reads through NGINX or a plugin only)";
    } else {
      for (const std::string& m : mirrors) {
        YAML::Node route;
        route["name"] = m;
        canary["trafficRouting"]["managedRoutes"].push_back(route);
      }
      canary["trafficRouting"]["istio"]["virtualService"]["name"] = name;
      canary["trafficRouting"]["istio"]["virtualService"]["routes"].push_back("primary");
      router = "Istio's VirtualService " + name + " (route primary)";
    }
    out.warnings.push_back(p.file() + ": " +
                           (units != 100 ? std::string("a setWeight that is not a whole percent")
                            : !mirrors.empty() ? std::string("setMirrorRoute")
                                               : std::string("setCanaryScale")) +
                           " needs a traffic router in Argo: the Rollout routes through " + router +
                           " between the Services " + name + "-canary and " + name + "-stable; point them at yours");
  }
  rollout["spec"]["strategy"]["canary"]["steps"] = steps;
  if (p.has("analysis")) {
    const ConfigMap a = p.map("analysis");
    YAML::Node bg = refs(a);
    if (a.has("startingStep")) bg["startingStep"] = a.count("startingStep", 0, 0, 1000000);
    rollout["spec"]["strategy"]["canary"]["analysis"] = bg;
  }
  std::string templates_text;
  const ConfigMap templates = p.map("templates");
  for (const std::string& tname : templates.keys()) {
    const ConfigMap t = templates.map(tname);
    YAML::Node doc;
    doc["apiVersion"] = "argoproj.io/v1alpha1";
    doc["kind"] = "AnalysisTemplate";
    doc["metadata"]["name"] = tname;
    for (const char* arg : {"canary-hash", "stable-hash"}) {
      YAML::Node a;
      a["name"] = arg;
      doc["spec"]["args"].push_back(a);
    }
    for (const ConfigMap& m : t.maps("metrics")) {
      YAML::Node o;
      o["name"] = m.text("name");
      for (const char* key : {"interval", "initialDelay"})
        if (m.has(key)) o[key] = m.text(key);
      // A Prometheus query's result is a list (policies/expr.h): conditions written for
      // canarysim's any-form result read result[0]; those already for a list stay.
      const ConfigMap pr = m.map("provider");
      const std::string shape = pr.text("result", "any");
      if (shape != "any" && shape != "vector")
        pr.reject("result", "any or vector: export writes Prometheus queries, whose result is a list, and these "
                            "conditions read a " + shape + " result; rewrite them for result[0]");
      for (const char* key : {"successCondition", "failureCondition"}) {
        if (!m.has(key)) continue;
        const auto e = Expression::parse(m.text(key), nullptr);
        o[key] = shape == "any" && e ? e->text_as_vector() : m.text(key);
      }
      for (const char* key : {"count", "failureLimit", "inconclusiveLimit", "consecutiveErrorLimit"})
        if (m.has(key)) o[key] = m.count(key, 0, 0, 1000000);
      if (m.flag("dryRun", false)) {
        // Argo finds the rule's Go regexp anywhere in a name (ttft would mark ttft-p99
        // too): anchored, its metacharacters escaped, it marks this metric alone.
        std::string exact = "^";
        for (const char c : m.text("name")) {
          if (std::strchr(".^$*+?()[]{}|\\", c)) exact += '\\';
          exact += c;
        }
        YAML::Node d;
        d["metricName"] = exact + "$";
        doc["spec"]["dryRun"].push_back(d);
      }
      const Metric metric = *Metric::parse(pr.text("query"));
      const double interval = m.duration("interval", 0);
      const double window = pr.duration("window", interval > 0 ? interval : 60);
      o["provider"]["prometheus"]["address"] = ex.address();
      o["provider"]["prometheus"]["query"] = ex.query(pr, "query", metric, pr.text("version", "canary"),
                                                      pr.number("scale", 1, 1e-12, 1e12), prom_duration(window), window, ctx);
      doc["spec"]["metrics"].push_back(o);
    }
    templates_text += (templates_text.empty() ? "" : "---\n") + emit(doc);
  }
  out.files.emplace_back("rollout.yaml", "# Exported from " + p.file() + " by canarysim export-policy.\n" + emit(rollout));
  if (!templates_text.empty())
    out.files.emplace_back("analysis-templates.yaml", "# Exported from " + p.file() + " by canarysim export-policy.\n" + templates_text);
  return out;
}

Exported export_flagger(const ConfigMap& p, Exporter& ex, const std::string& name) {
  Exported out;
  YAML::Node canary;
  canary["apiVersion"] = "flagger.app/v1beta1";
  canary["kind"] = "Canary";
  std::map<std::string, std::string> notes;
  if (p.duration("rollback_drain", 0) > 0) {
    notes["canarysim.io/rollback-drain"] = p.text("rollback_drain");
    out.warnings.push_back(p.file() + ": rollback_drain " + p.text("rollback_drain") + ": Flagger routes traffic back at "
                           "once; kept as the annotation canarysim.io/rollback-drain, which import reads");
  }
  if (p.has("match_weight")) {
    notes["canarysim.io/match-weight"] = number_text(p.percent("match_weight") * 100);
    out.warnings.push_back(p.file() + ": match_weight: the header match sends whoever carries x-canary: insider; the "
                           "share canarysim simulates is kept as the annotation canarysim.io/match-weight");
  }
  canary["metadata"] = metadata(name, notes);
  canary["metadata"]["namespace"] = "default";
  canary["spec"]["targetRef"]["apiVersion"] = "apps/v1";
  canary["spec"]["targetRef"]["kind"] = "Deployment";
  canary["spec"]["targetRef"]["name"] = name;
  canary["spec"]["service"]["port"] = 8000;
  YAML::Node a;
  const double interval = p.duration("interval", 60);
  a["interval"] = format_duration(interval);
  a["threshold"] = p.count("threshold", 1, 1, 1000000);
  if (p.has("iterations")) {
    a["iterations"] = p.count("iterations", 0, 1, 1000000);
    if (p.flag("mirror", false)) {
      a["mirror"] = true;
      if (p.has("mirrorWeight")) a["mirrorWeight"] = YAML::Load(number_text(p.percent("mirrorWeight") * 100));
    } else {
      a["match"][0]["headers"]["x-canary"]["exact"] = "insider";
    }
  } else if (p.has("stepWeights")) {
    for (double w : p.numbers("stepWeights")) a["stepWeights"].push_back(whole_percent(p, "stepWeights", w));
  } else {
    a["stepWeight"] = whole_percent(p, "stepWeight", p.percent("stepWeight") * 100);
    a["maxWeight"] = whole_percent(p, "maxWeight", p.has("maxWeight") ? p.percent("maxWeight") * 100 : 100);
  }
  if (p.has("stepWeightPromotion"))
    a["stepWeightPromotion"] = whole_percent(p, "stepWeightPromotion", p.percent("stepWeightPromotion") * 100);
  std::string templates_text;
  for (const ConfigMap& m : p.maps("metrics")) {
    const std::string mname = m.text("name");
    const double window = m.duration("interval", 60);  // the policy's default, Flagger's MetricInterval
    YAML::Node o;
    const ConfigMap range = m.map("thresholdRange");
    for (const char* bound : {"min", "max"})
      if (range.has(bound)) o["thresholdRange"][bound] = YAML::Load(number_text(range.number(bound, -1e300, 1e300)));
    o["interval"] = prom_duration(window);
    if (mname == "request-success-rate" || mname == "request-duration") {
      o["name"] = mname;
    } else {
      const Metric metric = *Metric::parse(mname);
      const std::string version = m.text("version", "canary");
      double scale = metric.is_time() ? 1000 : metric.is_probability() ? 100 : 1;
      if (version == "ratio") scale = 1;
      scale = m.number("scale", scale, 1e-12, 1e12);
      std::string tname = mname;
      for (char& c : tname) c = c == '_' || c == '.' ? '-' : c;
      if (version != "canary") tname += "-" + version;
      QueryContext ctx;
      ctx.variables["namespace"] = "default";
      ctx.variables["target"] = name;
      ctx.variables["interval"] = prom_duration(window);
      const std::string q = ex.query(m, "name", metric, version, scale, "{{ interval }}", window, ctx);
      YAML::Node doc;
      doc["apiVersion"] = "flagger.app/v1beta1";
      doc["kind"] = "MetricTemplate";
      doc["metadata"]["name"] = tname;
      doc["metadata"]["namespace"] = "default";
      doc["spec"]["provider"]["type"] = "prometheus";
      doc["spec"]["provider"]["address"] = ex.address();
      doc["spec"]["query"] = q;
      templates_text += (templates_text.empty() ? "" : "---\n") + emit(doc);
      o["name"] = tname;
      o["templateRef"]["name"] = tname;
      o["templateRef"]["namespace"] = "default";
    }
    a["metrics"].push_back(o);
  }
  canary["spec"]["analysis"] = a;
  out.files.emplace_back("canary.yaml", "# Exported from " + p.file() + " by canarysim export-policy.\n" + emit(canary));
  if (!templates_text.empty())
    out.files.emplace_back("metric-templates.yaml", "# Exported from " + p.file() + " by canarysim export-policy.\n" + templates_text);
  return out;
}

}  // namespace

Exported export_policy(const std::string& tool, const std::string& policy_path, const std::string& mapping_path,
                       const std::string& name) {
  if (tool != "argo" && tool != "flagger") throw InputError(tool + ": unknown tool; expected argo or flagger");
  const auto policy = load_policy_file(policy_path);  // validates every field first
  const ConfigMap p = ConfigMap::parse_file(policy_path);
  const std::string kind = policy->kind();
  if (kind != tool) {
    std::string why;
    if (kind == "argo" || kind == "flagger")
      why = "a " + kind + " policy exports to " + kind + " (export-policy " + kind + ")";
    else
      why = "export-policy writes argo and flagger policies exactly; a " + kind +
            " policy has no exact form in Argo Rollouts or Flagger (its timing, judge or gates differ), so an export "
            "would change what it does";
    throw InputError(policy_path + ": kind: " + kind + ": " + why);
  }
  Exporter ex(tool, mapping_path);
  return tool == "argo" ? export_argo(p, ex, name) : export_flagger(p, ex, name);
}

}  // namespace canarysim
