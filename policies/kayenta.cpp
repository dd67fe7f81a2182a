// kind: kayenta -- Spinnaker Kayenta's canary judge (NetflixACAJudge) over a fixed-weight
// canary analysis.
//
//   kind: kayenta
//   weight: 10                # canary weight during the analysis, percent
//   lifetime: 1h              # length of the analysis
//   interval: 15m             # a judgement every interval
//   step: 1m                  # one data point per version per step (Kayenta's step)
//   lookback: 0s              # 0: judge all data since the start; else the last lookback
//   confidence: 98%           # two-sided Mann-Whitney interval
//   tolerance: 0.25
//   metrics:
//     - name: latency
//       metric: ttft_p90      # a canarysim metric (policies/checks.h)
//       groups: [latency]
//       direction: increase   # increase, decrease or either
//       critical: false
//       must_have_data: false # no data fails the metric (Kayenta's mustHaveData)
//       nan_strategy: remove  # a step without a value: remove, or replace (with 0)
//       outliers: {strategy: keep, factor: 3}   # or remove (Tukey fences, as Kayenta)
//       effect_size: {measure: meanRatio, allowed_increase: 1.0, critical_increase: 1.0,
//                     allowed_decrease: 1.0, critical_decrease: 1.0}
//   classifier:
//     group_weights: {latency: 50, errors: 50}   # add up to 100
//     score_thresholds: {pass: 95, marginal: 75}
//   rollback_drain: 0s
//
// A metric's canary series is compared with the baseline's by the Mann-Whitney interval
// for their shift and its Hodges-Lehmann estimate h: the metric is High when the
// interval's lower end exceeds tolerance x |h| (and the effect size, mean ratio or common
// language effect size, is at least allowed_increase), Low symmetrically, else Pass. A
// critical metric that is High (Low) with effect size at least critical_increase (at most
// critical_decrease) fails the whole analysis. The score is the group-weighted share of
// passing metrics, 0-100, rounded to two decimals. A score at or below marginal ends the
// analysis as failed (rollback); at the end of the lifetime the last score must reach
// pass (promote), or the canary fails.
//
// No data, as Kayenta's judge (NetflixACAJudge with its WeightedSumScorer) has it: a
// metric with no value on either side (nan_strategy remove) is NoData. A critical one
// fails the analysis; with must_have_data it fails in its groups; otherwise it is left out
// of its groups, and a group left with nothing scores 100. When half the metrics or more
// are NoData the score is 0. With nan_strategy replace a step with no value counts as 0,
// and a side with no points at all passes.
#include <algorithm>
#include <cmath>
#include <map>

#include "policies/checks.h"
#include "policies/policy.h"
#include "policies/registry.h"
#include "policies/stats.h"
#include "sim/io/config.h"
#include "sim/io/schema.h"

namespace canarysim {
namespace {

struct KayentaMetric {
  std::string name;
  Metric metric;
  std::vector<std::string> groups;
  enum class Direction { kIncrease, kDecrease, kEither } direction = Direction::kEither;
  bool critical = false;
  bool must_have_data = false;
  bool replace_nan = false;  // a step with no value counts as 0 (else it is removed)
  double outlier_factor = 0;  // > 0: remove points outside Kayenta's fences at this factor
  bool cles = false;  // effect size: common language effect size, else mean ratio
  double allowed_increase = 1, critical_increase = 1, allowed_decrease = 1, critical_decrease = 1;
};

struct KayentaConfig final : PolicyConfig {
  double weight = 0.1, lifetime = 3600, interval = 900, step = 60, lookback = 0;
  double confidence = 0.98, tolerance = 0.25;
  std::vector<KayentaMetric> metrics;
  std::map<std::string, double> group_weights;
  double pass = 95, marginal = 75;
  double drain_s = 0;

  std::string kind() const override { return "kayenta"; }
  double interval_s() const override { return step; }
  // Mann-Whitney at 98 % cannot reject with fewer than 5 points a side: its interval is
  // then [min, max] of the differences, so the judgement is a coin flip of noise.
  std::vector<SampleNeed> sample_needs() const override {
    SampleNeed n;
    n.field = lookback > 0 && lookback < interval ? "lookback" : "interval";
    n.what = "each metric's series";
    n.points = std::floor((lookback > 0 ? std::min(lookback, interval) : interval) / step + 1e-9);
    n.needs_points = 5;
    return {n};
  }
  double max_lookback_s() const override { return step; }
  std::unique_ptr<Policy> make() const override;
};

enum class Label { kPass, kHigh, kLow, kNoData, kNoDataFails };

// Commons Math's percentile (its default estimator, which Kayenta's judge uses) of sorted
// values: position p (n + 1) / 100, interpolated, clamped to the ends.
double percentile(const std::vector<double>& sorted, double p) {
  const double n = static_cast<double>(sorted.size());
  const double pos = p * (n + 1) / 100;
  if (pos < 1) return sorted.front();
  if (pos >= n) return sorted.back();
  const size_t i = static_cast<size_t>(pos);
  return sorted[i - 1] + (pos - std::floor(pos)) * (sorted[i] - sorted[i - 1]);
}

// Kayenta's IQRDetector with reduced sensitivity: a point is an outlier below
// min(p1, q1 - factor iqr) or above max(p99, q3 + factor iqr).
std::vector<double> without_outliers(const std::vector<double>& values, double factor) {
  if (values.empty()) return values;
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const double q1 = percentile(sorted, 25), q3 = percentile(sorted, 75), iqr = q3 - q1;
  const double low = std::min(percentile(sorted, 1), q1 - factor * iqr);
  const double high = std::max(percentile(sorted, 99), q3 + factor * iqr);
  std::vector<double> kept;
  for (double v : values)
    if (v >= low && v <= high) kept.push_back(v);
  return kept;
}

class Kayenta final : public Policy {
 public:
  explicit Kayenta(const KayentaConfig& c) : c_(c), canary_(c.metrics.size()), baseline_(c.metrics.size()) {}
  double initial_weight() const override { return c_.weight; }

  Decision decide(const Observation& obs) override {
    const double now = obs.now();
    for (size_t i = 0; i < c_.metrics.size(); ++i) {
      const auto cv = c_.metrics[i].metric.value(obs.canary(c_.step));
      const auto bv = c_.metrics[i].metric.value(obs.baseline(c_.step));
      const bool zero = c_.metrics[i].replace_nan;
      if (cv || zero) canary_[i].emplace_back(now, cv.value_or(0));
      if (bv || zero) baseline_[i].emplace_back(now, bv.value_or(0));
    }
    if (now + 1e-9 < next_judgement_) return Decision::hold("collecting");
    next_judgement_ += c_.interval;
    std::string why;
    const double score = judge(now, &why);
    char buf[64];
    std::snprintf(buf, sizeof buf, "score %.1f", score);
    const std::string text = std::string(buf) + (why.empty() ? "" : " (" + why + ")");
    const bool last = now + 1e-9 >= c_.lifetime;
    if (score <= c_.marginal) return Decision::rollback("canary failed, " + text + " <= marginal", c_.drain_s);
    if (!last) return Decision::hold(text);
    if (score >= c_.pass) return Decision::promote("canary passed, " + text);
    return Decision::rollback("canary failed, final " + text + " < pass", c_.drain_s);
  }

 private:
  std::vector<double> values(const KayentaMetric& m, const std::vector<std::pair<double, double>>& series,
                             double now) const {
    std::vector<double> out;
    for (const auto& [t, v] : series)
      if (c_.lookback <= 0 || t > now - c_.lookback) out.push_back(v);
    return m.outlier_factor > 0 ? without_outliers(out, m.outlier_factor) : out;
  }

  double judge(double now, std::string* why) {
    // Every group a metric names, scored over its metrics that were judged.
    std::map<std::string, std::pair<double, double>> groups;  // passing, judged
    size_t no_data = 0;
    for (size_t i = 0; i < c_.metrics.size(); ++i) {
      const KayentaMetric& m = c_.metrics[i];
      const std::vector<double> x = values(m, canary_[i], now), y = values(m, baseline_[i], now);
      double deviation = 1;
      Label label = classify(m, x, y, &deviation);
      if (label == Label::kNoData) {
        if (m.critical) {
          *why = "critical metric " + m.name + " has no data";
          return 0;
        }
        if (m.must_have_data) label = Label::kNoDataFails;
        else ++no_data;
      }
      const bool high = label == Label::kHigh, low = label == Label::kLow;
      if (m.critical && ((high && deviation >= m.critical_increase) || (low && deviation <= m.critical_decrease))) {
        *why = "critical metric " + m.name + (high ? " High" : " Low");
        return 0;
      }
      if (high || low) *why += (why->empty() ? "" : ", ") + m.name + (high ? " High" : " Low");
      if (label == Label::kNoDataFails) *why += (why->empty() ? "" : ", ") + m.name + " has no data";
      for (const std::string& g : m.groups) {
        groups[g].first += label == Label::kPass;
        groups[g].second += label != Label::kNoData;
      }
    }
    if (2 * no_data >= c_.metrics.size()) {
      *why = std::to_string(no_data) + " of " + std::to_string(c_.metrics.size()) + " metrics have no data";
      return 0;
    }
    double score = 0, weight = 0;
    for (const auto& [g, counts] : groups) {
      const double w = c_.group_weights.at(g);
      score += w * (counts.second > 0 ? counts.first / counts.second : 1);
      weight += w;
    }
    // Kayenta rounds the summary score to two decimals before its thresholds read it.
    return std::round(100 * 100 * score / weight) / 100;
  }

  Label classify(const KayentaMetric& m, const std::vector<double>& x, const std::vector<double>& y,
                 double* deviation) const {
    if (x.empty() || y.empty()) return m.replace_nan ? Label::kPass : Label::kNoData;
    double mx = 0, my = 0;
    for (double v : x) mx += v / static_cast<double>(x.size());
    for (double v : y) my += v / static_cast<double>(y.size());
    if (m.cles) {
      double greater = 0;
      for (double a : x)
        for (double b : y) greater += a > b ? 1 : a == b ? 0.5 : 0;
      *deviation = greater / static_cast<double>(x.size() * y.size());
    } else {
      *deviation = my == 0 ? 1 : mx / my;
    }
    const ShiftInterval s = mann_whitney(x, y, c_.confidence);
    const double bound = c_.tolerance * std::abs(s.estimate);
    using D = KayentaMetric::Direction;
    if (m.direction != D::kDecrease && s.lower > bound && *deviation >= m.allowed_increase) return Label::kHigh;
    if (m.direction != D::kIncrease && s.upper < -bound && *deviation <= m.allowed_decrease) return Label::kLow;
    return Label::kPass;
  }

  const KayentaConfig& c_;
  std::vector<std::vector<std::pair<double, double>>> canary_, baseline_;  // (time, value)
  double next_judgement_ = c_.interval;
};

std::unique_ptr<Policy> KayentaConfig::make() const { return std::make_unique<Kayenta>(*this); }

}  // namespace

using namespace schema;
const Section kKayenta{"policy", "kind: kayenta", "Kayenta's canary judge (NetflixACAJudge): a fixed canary weight; every interval each metric is classified by a Mann-Whitney test, groups are scored, and the score decides.", {
    {"kind", kText, "", "kayenta", "the policy kind"},
    {"weight", kPercent, "10", "(0, 100]", "the canary's weight throughout"},
    {"lifetime", kDuration, "1h", ">= interval", "how long the analysis runs before promotion"},
    {"interval", kDuration, "15m", ">= step", "time between judgements"},
    {"step", kDuration, "1m", "> 0", "the metrics' sample step"},
    {"lookback", kDuration, "0s (all data since the start)", ">= 0", "the data each judgement reads (a sliding window)"},
    {"confidence", kFraction, "98%", "(0, 1)", "the Mann-Whitney confidence level"},
    {"tolerance", kNumber, "0.25", "[0, 100]", "score points below marginal that still count as marginal"},
    {"metrics", kList, "", "at least one", "section metrics[]"},
    {"classifier", kMap, "", "", "section classifier"},
    {"rollback_drain", kDuration, "0s", ">= 0", "after a rollback, the time until no user traffic reaches the canary"},
}};
const Section kClassifier{"policy", "kind: kayenta / classifier", "How metric results become a score.", {
    {"group_weights", kMap, "", "add up to 100", "GROUP: weight in points"},
    {"score_thresholds", kMap, "", "", "section classifier.score_thresholds"},
}};
const Section kThresholds{"policy", "kind: kayenta / classifier.score_thresholds", "The score's verdicts.", {
    {"pass", kNumber, "", "[0, 100]", "a score at least this passes"},
    {"marginal", kNumber, "", "[0, pass]", "below this fails (rolls back)"},
}};
const Section kKayentaMetric{"policy", "kind: kayenta / metrics[]", "One metric of the canary config.", {
    {"name", kText, "", "", "the metric's name in reasons"},
    {"metric", kText, "", "a canarysim metric", "what is compared (policies/checks.h)"},
    {"groups", kTexts, "", "groups of classifier.group_weights", "the groups it scores in"},
    {"direction", kText, "either", "increase, decrease, either", "which change fails"},
    {"critical", kFlag, "false", "", "a failure, or no data, fails the whole judgement"},
    {"must_have_data", kFlag, "false", "", "no data fails the metric (Kayenta's mustHaveData)"},
    {"nan_strategy", kText, "remove", "remove, replace", "a step without a value: left out, or counted as 0"},
    {"outliers", kMap, "(none: keep)", "", "section metrics[].outliers"},
    {"effect_size", kMap, "(none)", "", "section metrics[].effect_size"},
}};
const Section kOutliers{"policy", "kind: kayenta / metrics[].outliers", "Points left out before each side is compared (Kayenta's outliers: Tukey's fences, widened to the 1st and 99th percentiles).", {
    {"strategy", kText, "keep", "keep, remove", "remove: leave out points beyond the fences"},
    {"factor", kNumber, "3", "(0, 10^9]", "the fences: quartiles -/+ factor x the interquartile range"},
}};
const Section kEffect{"policy", "kind: kayenta / metrics[].effect_size", "How large a significant change must be to fail (Kayenta's effectSize).", {
    {"measure", kText, "meanRatio", "meanRatio, cles", "the effect measure"},
    {"allowed_increase", kNumber, "1 (cles: 0.5)", "[0, 10^9]", "larger increases fail"},
    {"critical_increase", kNumber, "1 (cles: 0.5)", "[0, 10^9]", "larger increases fail critically"},
    {"allowed_decrease", kNumber, "1 (cles: 0.5)", "[0, 10^9]", "larger decreases fail"},
    {"critical_decrease", kNumber, "1 (cles: 0.5)", "[0, 10^9]", "larger decreases fail critically"},
}};

std::unique_ptr<PolicyConfig> parse_kayenta(const ConfigMap& m) {
  m.allow(kKayenta);
  auto c = std::make_unique<KayentaConfig>();
  c->weight = m.has("weight") ? m.percent("weight") : c->weight;
  if (c->weight <= 0) m.fail("weight", "a positive canary weight in percent");
  c->lifetime = m.duration("lifetime", c->lifetime);
  c->interval = m.duration("interval", c->interval);
  c->step = m.duration("step", c->step);
  if (c->step <= 0) m.fail("step", "a positive duration");
  if (c->interval < c->step) m.fail("interval", "an interval at least as long as the step");
  if (c->lifetime < c->interval) m.fail("lifetime", "a lifetime at least as long as the interval");
  c->lookback = m.duration("lookback", 0);
  c->confidence = m.probability("confidence", c->confidence);
  if (c->confidence <= 0 || c->confidence >= 1) m.fail("confidence", "a confidence level in (0, 1)");
  c->tolerance = m.number("tolerance", c->tolerance, 0, 100);
  c->drain_s = m.duration("rollback_drain", 0);
  const ConfigMap cl = m.map("classifier");
  cl.allow(kClassifier);
  const ConfigMap gw = cl.map("group_weights");
  double total = 0;
  for (const std::string& g : gw.keys()) total += c->group_weights[g] = gw.number(g, 0, 100);
  if (std::abs(total - 100) > 1e-9) cl.fail("group_weights", "group weights that add up to 100");
  const ConfigMap st = cl.map("score_thresholds");
  st.allow(kThresholds);
  c->pass = st.number("pass", 0, 100);
  c->marginal = st.number("marginal", 0, 100);
  if (c->marginal > c->pass) st.fail("marginal", "a marginal score at most the pass score");
  for (const ConfigMap& mm : m.maps("metrics")) {
    mm.allow(kKayentaMetric);
    KayentaMetric k;
    k.name = mm.text("name");
    const auto metric = Metric::parse(mm.text("metric"));
    if (!metric) mm.fail("metric", "a canarysim metric name (policies/checks.h)");
    k.metric = *metric;
    k.groups = mm.texts("groups");
    if (k.groups.empty()) mm.fail("groups", "a list of at least one group");
    for (size_t i = 0; i < k.groups.size(); ++i)
      if (!c->group_weights.count(k.groups[i])) mm.fail_item("groups", i, "a group named in classifier.group_weights");
    const std::string d = mm.text("direction", "either");
    if (d == "increase") k.direction = KayentaMetric::Direction::kIncrease;
    else if (d == "decrease") k.direction = KayentaMetric::Direction::kDecrease;
    else if (d != "either") mm.fail("direction", "increase, decrease or either");
    k.critical = mm.flag("critical", false);
    k.must_have_data = mm.flag("must_have_data", false);
    const std::string nan = mm.text("nan_strategy", "remove");
    if (nan != "remove" && nan != "replace") mm.fail("nan_strategy", "remove or replace");
    k.replace_nan = nan == "replace";
    if (mm.has("outliers")) {
      const ConfigMap o = mm.map("outliers");
      o.allow(kOutliers);
      const std::string strategy = o.text("strategy", "keep");
      if (strategy != "keep" && strategy != "remove") o.fail("strategy", "keep or remove");
      const double factor = o.number("factor", 3, 0, 1e9);
      if (factor <= 0) o.fail("factor", "a positive factor");
      k.outlier_factor = strategy == "remove" ? factor : 0;
    }
    if (mm.has("effect_size")) {
      const ConfigMap e = mm.map("effect_size");
      e.allow(kEffect);
      const std::string measure = e.text("measure", "meanRatio");
      if (measure != "meanRatio" && measure != "cles") e.fail("measure", "meanRatio or cles");
      k.cles = measure == "cles";
      const double neutral = k.cles ? 0.5 : 1.0;
      k.allowed_increase = e.number("allowed_increase", neutral, 0, 1e9);
      k.critical_increase = e.number("critical_increase", neutral, 0, 1e9);
      k.allowed_decrease = e.number("allowed_decrease", neutral, 0, 1e9);
      k.critical_decrease = e.number("critical_decrease", neutral, 0, 1e9);
    }
    c->metrics.push_back(k);
  }
  if (c->metrics.empty()) m.fail("metrics", "a list of at least one metric");
  return c;
}

}  // namespace canarysim
