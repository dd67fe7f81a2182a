// kind: argo -- an Argo Rollouts canary: steps, inline and background analysis, and
// AnalysisTemplate metrics with Argo's measurement and run phases.
//
//   kind: argo
//   steps:
//     - setWeight: 5
//     - pause: {duration: 10m}          # without a duration: paused for a person
//     - analysis: {templates: [{templateName: error-rate}]}
//     - setMirrorRoute: {percentage: 50}   # shadow copies of this share of baseline traffic
//     - setCanaryScale: {weight: 25}      # the canary pool sized for 25 % of the fleet,
//                                         # whatever its traffic (an autoscaled batched
//                                         # pool); {matchTrafficWeight: true}: by weight again
//     - setWeight: 25
//   analysis:                           # background analysis (strategy.canary.analysis)
//     templates: [{templateName: error-rate}]
//     startingStep: 1                   # starts when this step is reached (default 0)
//   templates:                          # AnalysisTemplates, by name
//     error-rate:
//       metrics:
//         - name: error-rate
//           interval: 1m                # between measurements
//           count: 5                    # measurements (background: unlimited by default)
//           initialDelay: 1m
//           successCondition: result < 0.01
//           failureCondition: result >= 0.05
//           failureLimit: 0             # failed measurements tolerated (default 0)
//           inconclusiveLimit: 0        # default 0
//           consecutiveErrorLimit: 4    # default 4
//           dryRun: false               # true: measured and reported, never enforced
//           provider: {query: error_rate, version: canary, window: 1m, scale: 1}
//   tick: 10s                           # how often the controller looks (default 10s)
//   rollback_drain: 0s
//
// A measurement reads a canarysim metric (policies/checks.h) over `window` (default: the
// interval) of the canary, the baseline, their ratio (canary / baseline) or difference,
// times `scale` (the unit the conditions are written in: 100 for percent, 1000 for
// milliseconds; canarysim's own are fractions and seconds). `result` reads the value in
// any form (result, result[0], result.x) unless `provider.result` says what the source
// provider gives (policies/expr.h: a Prometheus vector reads only as result[0]). With no
// data the conditions are evaluated on an empty result: `len(result) == 0 || ...` and
// `default(result, 0)` decide. Both conditions are evaluated, and if either reads a
// result that is not there (any read with no data, result[1] ever) the measurement is
// an Error, whatever the other says. A dryRun metric is measured but its phase never
// decides the run. A true failureCondition fails the measurement; else a true
// successCondition passes it; else it is Inconclusive, or Failed when there is no
// failureCondition (and Successful when there is only a failureCondition). A metric is
// Failed once failed measurements exceed failureLimit, Error once consecutive errors
// exceed consecutiveErrorLimit, Inconclusive once inconclusive ones exceed
// inconclusiveLimit, and Successful after `count` measurements that were not Errors (an
// Error is not counted; without an interval it is retried after 10 s). A run is Failed
// or Error as soon as one metric is, Inconclusive as soon as one is, Successful when all
// are.
// Failed or Error aborts the rollout (weight to 0); Inconclusive pauses it for a person,
// which the simulation reports as unfinished. Finishing the steps promotes.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>

#include "policies/checks.h"
#include "policies/expr.h"
#include "policies/policy.h"
#include "policies/registry.h"
#include "sim/io/config.h"
#include "sim/io/schema.h"

namespace canarysim {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// A measurement without an interval that ends in Error is taken again after this, as
// Argo's controller does (DefaultErrorRetryInterval).
constexpr double kErrorRetryS = 10;

enum class Phase { kRunning, kSuccessful, kFailed, kError, kInconclusive };
const char* phase_name(Phase p) {
  switch (p) {
    case Phase::kRunning: return "Running";
    case Phase::kSuccessful: return "Successful";
    case Phase::kFailed: return "Failed";
    case Phase::kError: return "Error";
    case Phase::kInconclusive: return "Inconclusive";
  }
  return "?";
}

struct ArgoMetric {
  std::string name;
  Metric metric;
  enum class Of { kCanary, kBaseline, kRatio, kDifference } of = Of::kCanary;
  double interval_s = 0;  // 0: a single measurement
  uint64_t count = 0;     // 0: unlimited (background) / 1 (inline without interval)
  double initial_delay_s = 0, window_s = 60;
  std::optional<Expression> success, failure;
  uint64_t failure_limit = 0, inconclusive_limit = 0, consecutive_error_limit = 4;
  double scale = 1;
  ResultShape shape = ResultShape::kAny;  // what the conditions' `result` is
  bool nan_when_empty = false;            // no data reads as NaN (PromQL scalar()), not as nothing
  bool dry_run = false;
};

using Template = std::vector<ArgoMetric>;

struct Step {
  enum class Kind { kSetWeight, kPause, kAnalysis, kMirror, kScale } kind;
  double weight = 0;  // kSetWeight: the canary weight; kMirror: the shadowed share;
                      // kScale: the fleet share the canary pool is sized for (0: by weight)
  double pause_s = kInf;  // kInf: indefinite
  std::vector<const Template*> templates;
};

struct ArgoConfig final : PolicyConfig {
  std::map<std::string, Template> templates;
  std::vector<Step> steps;
  std::vector<const Template*> background;
  size_t background_start = 0;
  double tick = 10, drain_s = 0;

  std::string kind() const override { return "argo"; }
  double max_weight() const override {
    double w = 0;
    for (const Step& s : steps)
      if (s.kind == Step::Kind::kSetWeight) w = std::max(w, s.weight);
    return w > 0 ? w : 1;
  }
  double interval_s() const override { return tick; }
  double max_lookback_s() const override {
    double w = tick;
    for (const auto& [name, t] : templates)
      for (const ArgoMetric& m : t) w = std::max(w, m.window_s);
    return w;
  }
  std::unique_ptr<Policy> make() const override;
  std::vector<SampleNeed> sample_needs() const override {
    double first = 0;  // the first share the canary takes: a weight, or shadow traffic
    for (const Step& s : steps)
      if ((s.kind == Step::Kind::kSetWeight || s.kind == Step::Kind::kMirror) && s.weight > 0) {
        first = s.weight;
        break;
      }
    std::vector<SampleNeed> out;
    for (const auto& [name, t] : templates)
      for (size_t i = 0; i < t.size(); ++i) {
        out.push_back(request_need("templates." + name + ".metrics[" + std::to_string(i) + "]", t[i].name,
                                   t[i].metric, 1, t[i].window_s, first));
      }
    return out;
  }
};

// One AnalysisRun: the measurements of a set of templates' metrics.
class AnalysisRun {
 public:
  AnalysisRun(const std::vector<const Template*>& templates, double start, bool background) {
    for (const Template* t : templates)
      for (const ArgoMetric& m : *t) {
        State s;
        s.m = &m;
        s.next = start + std::max(m.initial_delay_s, 1e-6);
        metrics_.push_back(s);
      }
    background_ = background;
  }

  // Takes the measurements due by now; returns the run's phase and a reason. A run that
  // starts at a tick takes its first measurement (after any initialDelay) at a later tick.
  Phase update(const Observation& obs, std::string* reason) {
    bool all_done = true;
    for (State& s : metrics_) {
      // One measurement per tick when due; the next is due an interval after it, as
      // Argo's controller schedules them.
      if (s.phase == Phase::kRunning && s.next <= obs.now() + 1e-9) measure(s, obs);
      if (s.m->dry_run) {  // observed, never enforced: done once it ends, whatever its phase
        all_done &= s.phase != Phase::kRunning;
        continue;
      }
      if (s.phase == Phase::kFailed || s.phase == Phase::kError || s.phase == Phase::kInconclusive) {
        *reason = "metric " + s.m->name + " " + phase_name(s.phase) + ": " + s.last;
        return s.phase;
      }
      all_done &= s.phase == Phase::kSuccessful;
    }
    return all_done ? Phase::kSuccessful : Phase::kRunning;
  }

 private:
  struct State {
    const ArgoMetric* m = nullptr;
    double next = 0;
    Phase phase = Phase::kRunning;
    // Argo's Count: measurements that were not Errors (an Error is retried, not counted).
    uint64_t counted = 0, failed = 0, inconclusive = 0, consecutive_errors = 0;
    std::string last;
  };

  void measure(State& s, const Observation& obs) {
    const ArgoMetric& m = *s.m;
    s.next = m.interval_s > 0 ? obs.now() + m.interval_s : kInf;
    const auto c = m.metric.value(obs.canary(m.window_s));
    const auto b = m.metric.value(obs.baseline(m.window_s));
    std::optional<double> v;
    switch (m.of) {
      case ArgoMetric::Of::kCanary: v = c; break;
      case ArgoMetric::Of::kBaseline: v = b; break;
      case ArgoMetric::Of::kRatio: if (c && b && *b > 0) v = *c / *b; break;
      case ArgoMetric::Of::kDifference: if (c && b) v = *c - *b; break;
    }
    // Whether the conditions hold, on the value or on an empty result. Argo evaluates
    // both (success first), and a failed evaluation of either (nullopt) is an Error.
    std::optional<double> x;
    char buf[96];
    if (v) {
      x = *v * m.scale;
      std::snprintf(buf, sizeof buf, "result %.6g", *x);
      s.last = buf;
    } else if (m.nan_when_empty) {
      x = std::numeric_limits<double>::quiet_NaN();
      s.last = "no data: result NaN";
    } else {
      s.last = "no data";
    }
    const std::optional<double> succeeded = m.success ? m.success->evaluate(x, m.shape) : 1.0;
    const std::optional<double> failed = m.failure ? m.failure->evaluate(x, m.shape) : 0.0;
    if (!failed || !succeeded) {
      ++s.consecutive_errors;
      if (m.interval_s == 0) s.next = obs.now() + kErrorRetryS;
    } else {
      ++s.counted;
      s.consecutive_errors = 0;
      const Measured p = measured(m.success ? std::optional<bool>(*succeeded != 0) : std::nullopt,
                                  m.failure ? std::optional<bool>(*failed != 0) : std::nullopt);
      if (p == Measured::kFailed) ++s.failed;
      if (p == Measured::kInconclusive) ++s.inconclusive;
    }
    if (s.failed > m.failure_limit) s.phase = Phase::kFailed;
    else if (s.consecutive_errors > m.consecutive_error_limit) s.phase = Phase::kError;
    else if (s.inconclusive > m.inconclusive_limit) s.phase = Phase::kInconclusive;
    else if (const uint64_t n = m.count ? m.count : (background_ || m.interval_s > 0 ? 0 : 1); n && s.counted >= n)
      s.phase = Phase::kSuccessful;
  }

  std::vector<State> metrics_;
  bool background_ = false;
};

class Argo final : public Policy {
 public:
  explicit Argo(const ArgoConfig& c) : c_(c) {}
  double initial_weight() const override { return 0; }

  Decision decide(const Observation& obs) override {
    const double now = obs.now();
    if (paused_) return Decision::hold("paused: waiting for a person after an inconclusive analysis");
    if (!started_) {  // the first tick enters step 0
      started_ = true;
      return enter(0, now, obs.weight());
    }
    std::string why;
    if (background_) {
      const Phase p = background_->update(obs, &why);
      if (p != Phase::kRunning && p != Phase::kSuccessful) return end(p, "background analysis: " + why);
    }
    if (step_ >= c_.steps.size()) return Decision::promote("all steps complete");
    const Step& s = c_.steps[step_];
    if (s.kind == Step::Kind::kPause) {
      if (now < step_started_ + s.pause_s - 1e-9) return Decision::hold(s.pause_s == kInf ? "paused" : "pause");
      return enter(step_ + 1, now, obs.weight());
    }
    // An inline analysis step.
    const Phase p = inline_->update(obs, &why);
    if (p == Phase::kRunning) return Decision::hold("analysis running");
    if (p != Phase::kSuccessful) return end(p, "step analysis: " + why);
    return enter(step_ + 1, now, obs.weight());
  }

 private:
  // Enters step k (and any setWeight steps after it, which take no time).
  Decision enter(size_t k, double now, double weight) {
    double w = weight, mirror = -1, scale = -1;
    bool changed = false;
    for (step_ = k; step_ < c_.steps.size() && (c_.steps[step_].kind == Step::Kind::kSetWeight ||
                                                c_.steps[step_].kind == Step::Kind::kMirror ||
                                                c_.steps[step_].kind == Step::Kind::kScale); ++step_) {
      if (c_.steps[step_].kind == Step::Kind::kMirror) {
        mirror = c_.steps[step_].weight;
      } else if (c_.steps[step_].kind == Step::Kind::kScale) {
        scale = c_.steps[step_].weight;
      } else {
        w = c_.steps[step_].weight;
        changed = true;
      }
      maybe_start_background(now);
    }
    maybe_start_background(now);
    step_started_ = now;
    if (step_ >= c_.steps.size()) return Decision::promote("all steps complete");
    if (c_.steps[step_].kind == Step::Kind::kAnalysis)
      inline_.emplace(c_.steps[step_].templates, now, false);
    const std::string what = "step " + std::to_string(step_ + 1) + " of " + std::to_string(c_.steps.size());
    Decision d = changed ? Decision::set_weight(w, what) : Decision::hold(what);
    if (scale >= 0) d = std::move(d).with_canary_scale(scale);
    return mirror >= 0 ? std::move(d).with_mirror(mirror) : d;
  }
  void maybe_start_background(double now) {
    if (!background_ && !c_.background.empty() && step_ >= c_.background_start)
      background_.emplace(c_.background, now, true);
  }
  Decision end(Phase p, const std::string& why) {
    if (p == Phase::kInconclusive) {
      paused_ = true;
      return Decision::hold("paused, inconclusive: " + why);
    }
    return Decision::rollback(std::string("aborted, ") + phase_name(p) + ": " + why, c_.drain_s);
  }

  const ArgoConfig& c_;
  bool started_ = false, paused_ = false;
  size_t step_ = 0;
  double step_started_ = 0;
  std::optional<AnalysisRun> background_, inline_;
};

std::unique_ptr<Policy> ArgoConfig::make() const { return std::make_unique<Argo>(*this); }

using namespace schema;
const Section kArgo{"policy", "kind: argo", "Argo Rollouts' canary strategy, with the keys of a Rollout's spec.strategy.canary: steps run in order; analyses run AnalysisTemplates' metrics (providers are canarysim metrics).", {
    {"kind", kText, "", "argo", "the policy kind"},
    {"steps", kList, "", "at least one", "section steps[]"},
    {"analysis", kMap, "(none)", "", "a background analysis through the rollout: section analysis"},
    {"templates", kMap, "(none)", "", "NAME: an AnalysisTemplate, section templates.NAME"},
    {"tick", kDuration, "10s", "> 0", "how often the controller looks (its resync)"},
    {"rollback_drain", kDuration, "0s", ">= 0", "after a rollback, the time until no user traffic reaches the canary"},
}};
const Section kArgoStep{"policy", "kind: argo / steps[]", "One step (one key).", {
    {"setWeight", kPercent, "(none)", "[0, 100]", "set the canary's weight"},
    {"pause", kAny, "(none)", "{} or {duration: D}", "wait: for a duration, or (empty) until the horizon"},
    {"analysis", kMap, "(none)", "", "an inline analysis that must pass: section analysis"},
    {"setMirrorRoute", kMap, "(none)", "", "mirror traffic to the canary: section steps[].setMirrorRoute"},
    {"setCanaryScale", kMap, "(none)", "", "size the canary's pool: section steps[].setCanaryScale"},
}};
const Section kArgoPause{"policy", "kind: argo / steps[].pause", "A pause.", {
    {"duration", kDuration, "(none): until the horizon", ">= 0", "how long"},
}};
const Section kArgoMirror{"policy", "kind: argo / steps[].setMirrorRoute", "Mirrored (shadow) traffic.", {
    {"name", kText, "(none)", "", "the route's name"},
    {"percentage", kPercent, "100", "[0, 100]", "share of the matched requests mirrored"},
}};
const Section kArgoScale{"policy", "kind: argo / steps[].setCanaryScale", "The canary's pool size, apart from its weight.", {
    {"weight", kPercent, "(none)", "(0, 100]", "percent of the fleet"},
    {"matchTrafficWeight", kFlag, "false", "", "sized for the weight again"},
}};
const Section kArgoAnalysis{"policy", "kind: argo / analysis, steps[].analysis", "An analysis: the templates whose metrics run.", {
    {"templates", kList, "", "at least one", "{templateName: NAME} each"},
    {"startingStep", kCount, "0", "[0, steps]", "background analysis: the step it starts at"},
    {"args", kAny, "(none)", "", "accepted for Argo's files (arguments are not substituted)"},
}};
const Section kArgoRef{"policy", "kind: argo / analysis.templates[]", "A reference to a template.", {
    {"templateName", kText, "", "a name in templates", "the template"},
    {"clusterScope", kAny, "(none)", "", "accepted for Argo's files"},
}};
const Section kArgoTemplate{"policy", "kind: argo / templates.NAME", "An AnalysisTemplate.", {
    {"metrics", kList, "", "at least one", "section templates.NAME.metrics[]"},
    {"args", kAny, "(none)", "", "accepted for Argo's files"},
}};
const Section kArgoMetric{"policy", "kind: argo / templates.NAME.metrics[]", "A metric of an AnalysisTemplate, as Argo measures it: count measurements every interval, each judged by its conditions.", {
    {"name", kText, "", "", "the metric's name"},
    {"interval", kDuration, "0s (one measurement)", ">= 0", "time between measurements"},
    {"count", kCount, "0 (until the analysis ends)", "[1, 10^6]", "measurements to take (Errors are retried, not counted)"},
    {"initialDelay", kDuration, "0s", ">= 0", "wait before the first measurement"},
    {"successCondition", kText, "(none)", "", "an expression over result, like 'result[0] < 0.01'"},
    {"failureCondition", kText, "(none)", "", "likewise; true fails the measurement"},
    {"failureLimit", kCount, "0", "[0, 10^6]", "failed measurements tolerated"},
    {"inconclusiveLimit", kCount, "0", "[0, 10^6]", "inconclusive measurements tolerated"},
    {"consecutiveErrorLimit", kCount, "4", "[0, 10^6]", "Error measurements (no data, a read past result[0]) in a row tolerated"},
    {"provider", kMap, "", "", "section templates.NAME.metrics[].provider"},
    {"dryRun", kFlag, "false", "", "measured and shown, never fails the analysis"},
}};
const Section kArgoProvider{"policy", "kind: argo / templates.NAME.metrics[].provider", "What a measurement reads: a canarysim metric in place of a Prometheus query.", {
    {"query", kText, "", "a canarysim metric", "error_rate, ttft_p99 ... (policies/checks.h)"},
    {"version", kText, "canary", "canary, baseline, ratio, difference", "whose value, or the canary's ratio or difference to the baseline's"},
    {"window", kDuration, "the interval, else 1m", "> 0", "the range the query reads"},
    {"scale", kNumber, "1", "[10^-12, 10^12]", "multiplies the value (0.001: seconds to milliseconds)"},
    {"result", kText, "any", "any, vector, scalar, map", "what the conditions' result is, as the source provider gives it: "
     "vector (Prometheus) reads only result[0], scalar (Datadog) only result, map (New Relic) only result.field; "
     "any reads every form; a read of another form is an Error, as in Argo"},
    {"no_data", kText, "nil", "nil, nan", "what result is when the query finds no data: nil (a read of it is an Error; "
     "len(result) is 0), or nan, as PromQL's scalar() gives (comparisons are false, isNaN(result) true)"},
}, false};

std::vector<const Template*> template_refs(const ConfigMap& m, const std::string& key,
                                           const std::map<std::string, Template>& templates) {
  std::vector<const Template*> out;
  const auto refs = m.maps(key);
  for (size_t i = 0; i < refs.size(); ++i) {
    refs[i].allow(kArgoRef);
    const std::string name = refs[i].text("templateName");
    const auto it = templates.find(name);
    if (it == templates.end()) refs[i].reject("templateName", "no template named '" + name + "' in templates");
    // Argo merges the templates of one analysis, and refuses two metrics of one name.
    for (const Template* earlier : out)
      for (const ArgoMetric& a : *earlier)
        for (const ArgoMetric& b : it->second)
          if (a.name == b.name)
            refs[i].reject("templateName", "a template whose metrics' names the analysis's other templates do not "
                                           "have: Argo refuses to merge two metrics named '" + a.name + "'");
    out.push_back(&it->second);
  }
  if (out.empty()) m.fail(key, "a list of at least one {templateName: NAME}");
  return out;
}

ArgoMetric parse_metric(const ConfigMap& m) {
  m.allow(kArgoMetric);
  ArgoMetric a;
  a.name = m.text("name");
  a.interval_s = m.duration("interval", 0);
  a.count = m.count("count", 0, 1, 1000000);
  a.initial_delay_s = m.duration("initialDelay", 0);
  a.failure_limit = m.count("failureLimit", 0, 0, 1000000);
  a.inconclusive_limit = m.count("inconclusiveLimit", 0, 0, 1000000);
  a.consecutive_error_limit = m.count("consecutiveErrorLimit", 4, 0, 1000000);
  // Argo's own checks of a metric (ValidateMetric), so that a template Argo would refuse
  // is refused here, not simulated as a run that waits forever.
  if (a.count > 1 && a.interval_s == 0)
    m.fail("count", "an interval with a count above 1, as Argo requires (without one the measurements after the "
                    "first never come)");
  if (a.count > 0 && a.failure_limit > a.count) m.fail("failureLimit", "at most count, as Argo requires");
  if (a.count > 0 && a.inconclusive_limit > a.count) m.fail("inconclusiveLimit", "at most count, as Argo requires");
  for (const char* key : {"successCondition", "failureCondition"}) {
    if (!m.has(key)) continue;
    std::string error;
    auto e = Expression::parse(m.text(key), &error);
    if (!e) m.fail(key, "an expression over result, like 'result < 0.01' (" + error + ")");
    (std::string(key) == "successCondition" ? a.success : a.failure) = std::move(e);
  }
  a.dry_run = m.flag("dryRun", false);
  const ConfigMap p = m.map("provider");
  p.allow(kArgoProvider);
  a.scale = p.number("scale", 1, 1e-12, 1e12);
  const std::string query = p.text("query");
  const auto metric = Metric::parse(query);
  if (!metric) p.fail("query", "a canarysim metric name (error_rate, ttft_p99, ...; see policies/checks.h)");
  a.metric = *metric;
  const std::string of = p.text("version", "canary");
  if (of == "canary") a.of = ArgoMetric::Of::kCanary;
  else if (of == "baseline") a.of = ArgoMetric::Of::kBaseline;
  else if (of == "ratio") a.of = ArgoMetric::Of::kRatio;
  else if (of == "difference") a.of = ArgoMetric::Of::kDifference;
  else p.fail("version", "canary, baseline, ratio or difference");
  a.window_s = p.duration("window", a.interval_s > 0 ? a.interval_s : 60);
  if (a.window_s <= 0) p.fail("window", "a positive duration");
  const auto shape = shape_named(p.text("result", "any"));
  if (!shape) p.fail("result", "any, vector, scalar or map");
  a.shape = *shape;
  const std::string no_data = p.text("no_data", "nil");
  if (no_data != "nil" && no_data != "nan") p.fail("no_data", "nil or nan");
  a.nan_when_empty = no_data == "nan";
  return a;
}

}  // namespace

std::unique_ptr<PolicyConfig> parse_argo(const ConfigMap& m) {
  m.allow(kArgo);
  auto c = std::make_unique<ArgoConfig>();
  c->tick = m.duration("tick", 10);
  if (c->tick <= 0) m.fail("tick", "a positive duration");
  c->drain_s = m.duration("rollback_drain", 0);
  // Template names are the mapping's keys; each is {metrics: [...]}. A ladder of
  // setWeight and pause steps needs none.
  const ConfigMap templates = m.has("templates") ? m.map("templates") : ConfigMap::parse_string("{}", m.file());
  for (const std::string& name : templates.keys()) {
    const ConfigMap t = templates.map(name);
    t.allow(kArgoTemplate);
    Template metrics;
    for (const ConfigMap& mm : t.maps("metrics")) {
      metrics.push_back(parse_metric(mm));
      for (size_t k = 0; k + 1 < metrics.size(); ++k)
        if (metrics[k].name == metrics.back().name)
          mm.reject("name", "a name no other metric of the template has, as Argo requires");
    }
    if (metrics.empty()) t.fail("metrics", "a list of at least one metric");
    c->templates[name] = std::move(metrics);
  }
  const auto steps = m.maps("steps");
  for (size_t i = 0; i < steps.size(); ++i) {
    const ConfigMap& s = steps[i];
    s.allow(kArgoStep);
    Step step;
    if (s.has("setWeight")) {
      step.kind = Step::Kind::kSetWeight;
      step.weight = s.percent("setWeight");
    } else if (s.has("pause")) {
      step.kind = Step::Kind::kPause;
      if (s.is_map("pause")) {
        const ConfigMap p = s.map("pause");
        p.allow(kArgoPause);
        step.pause_s = p.duration("duration", kInf);
      }
    } else if (s.has("setMirrorRoute")) {
      step.kind = Step::Kind::kMirror;
      const ConfigMap r = s.map("setMirrorRoute");
      r.allow(kArgoMirror);
      step.weight = r.has("percentage") ? r.percent("percentage") : 1.0;  // Argo: 100 % of the matched requests
    } else if (s.has("setCanaryScale")) {
      step.kind = Step::Kind::kScale;
      const ConfigMap r = s.map("setCanaryScale");
      r.allow(kArgoScale);
      if (r.has("weight") == r.flag("matchTrafficWeight", false))
        r.fail("weight", "weight (percent of the fleet) or matchTrafficWeight: true, one of them");
      step.weight = r.has("weight") ? r.percent("weight") : 0;
      if (r.has("weight") && step.weight <= 0) r.fail("weight", "a positive percent of the fleet");
    } else if (s.has("analysis")) {
      step.kind = Step::Kind::kAnalysis;
      const ConfigMap a = s.map("analysis");
      a.allow(kArgoAnalysis);
      step.templates = template_refs(a, "templates", c->templates);
      for (const Template* t : step.templates) {
        for (const ArgoMetric& mm : *t) {
          if (mm.interval_s > 0 && mm.count == 0)
            a.reject("templates", "metric " + mm.name + " has an interval but no count: an inline "
                                  "analysis step would never finish");
        }
      }
    } else {
      m.fail_item("steps", i, "a step: setWeight, pause, analysis, setMirrorRoute or setCanaryScale");
    }
    c->steps.push_back(step);
  }
  if (c->steps.empty()) m.fail("steps", "a list of at least one step");
  if (m.has("analysis")) {
    const ConfigMap a = m.map("analysis");
    a.allow(kArgoAnalysis);
    c->background = template_refs(a, "templates", c->templates);
    c->background_start = a.count("startingStep", 0, 0, c->steps.size());
  }
  return c;
}

}  // namespace canarysim
