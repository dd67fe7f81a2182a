// kind: flagger -- Flagger's canary analysis, as its scheduler runs it.
//
//   kind: flagger
//   interval: 1m              # schedule interval, at least 10s
//   threshold: 5              # failed checks before rollback (default 1, as Flagger's)
//   stepWeight: 10            # or stepWeights: [1, 5, 10, 25, 50]
//   maxWeight: 50             # default 100; with stepWeights, their last entry (Flagger
//                             # ignores maxWeight there, so it is refused)
//   stepWeightPromotion: 10   # accepted; see below
//   metrics:
//     - name: request-success-rate    # built in: percent of non-error requests
//       thresholdRange: {min: 99}
//       interval: 1m                  # the metric's query window (default 1m, Flagger's)
//     - name: request-duration        # built in: end-to-end latency p99, milliseconds
//       thresholdRange: {max: 500}
//     - name: ttft_p99                # any canarysim metric: latencies in ms, rates in %
//       thresholdRange: {max: 2000}
//       scale: 1                      # canarysim's own: the unit the range is written in
//                                     # (default 1000 for latencies, 100 for rates)
//       version: ratio                # canarysim's own: canary (default), ratio or
//                                     # difference (canary against the primary)
//   iterations: 10            # A/B testing or blue/green instead of a weight ladder:
//   match_weight: 10          #   A/B: canarysim's own, the share (percent) of traffic
//                             #   the header/cookie `match` sends to the canary
//   mirror: true              #   blue/green: the canary sees shadow copies of traffic,
//   mirrorWeight: 100         #   of this share of it (percent)
//   rollback_drain: 0s        # canarysim's own; Flagger routes traffic back at once
//   (metrics may be empty: the ladder then runs unjudged, as Flagger's does)
//
// Each interval, in Flagger's order: roll back when failed checks >= threshold; while the
// canary has no traffic yet (weight 0 before the first step) skip the analysis and set
// the first weight; otherwise run every metric check, and on any failure, or no data,
// count one failed check and do not advance; when all pass, advance by stepWeight (or to
// the next stepWeights entry) until maxWeight, and at maxWeight promote. Failed checks
// accumulate over the whole analysis. With `iterations`, the canary takes match_weight of
// the traffic (A/B) or shadow copies of all of it (mirror) at the first interval, and is
// promoted after that many intervals whose checks all pass. stepWeightPromotion shifts traffic between the
// promoted primary and the canary, both then running the new version, so it changes
// neither exposure nor outcome: canarysim ends the run at promotion.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "policies/checks.h"
#include "policies/policy.h"
#include "policies/registry.h"
#include "sim/io/config.h"
#include "sim/io/schema.h"

namespace canarysim {
namespace {

struct FlaggerMetric {
  std::string name;
  Metric metric;
  double scale = 1;  // multiplies the canarysim value into Flagger's unit
  bool success_rate = false;  // request-success-rate: 100 x (1 - error rate)
  enum class Of { kCanary, kRatio, kDifference } of = Of::kCanary;
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  double window_s = 60;
};

struct FlaggerConfig final : PolicyConfig {
  double interval = 60;
  uint64_t threshold = 1;  // Flagger's GetAnalysisThreshold
  std::vector<double> step_weights;  // fractions; empty: use step_weight
  double step_weight = 0.1, max_share = 1;  // Flagger's maxWeight: totalWeight, 100
  double max_weight() const override { return iterations > 0 ? 1 : max_share; }
  double drain_s = 0;
  std::vector<FlaggerMetric> metrics;
  uint64_t iterations = 0;  // > 0: A/B testing or blue/green
  double match_weight = 0;  // A/B: the canary's share
  bool mirror = false;      // blue/green: shadow traffic
  double mirror_weight = 1; // the share of traffic mirrored

  std::string kind() const override { return "flagger"; }
  double interval_s() const override { return interval; }
  double max_lookback_s() const override {
    double w = interval;
    for (const auto& m : metrics) w = std::max(w, m.window_s);
    return w;
  }
  std::unique_ptr<Policy> make() const override;

  std::vector<SampleNeed> sample_needs() const override {
    std::vector<SampleNeed> out;
    const double first = iterations > 0 ? (mirror ? mirror_weight : match_weight) : next_weight(0);
    for (size_t i = 0; i < metrics.size(); ++i) {
      out.push_back(request_need("metrics[" + std::to_string(i) + "]", metrics[i].name, metrics[i].metric, 1,
                                 metrics[i].window_s, first));
    }
    return out;
  }

  double next_weight(double w) const {
    if (step_weights.empty()) return std::min(1.0, w + step_weight);
    for (double s : step_weights)
      if (s > w + 1e-12) return s;
    return w;
  }
};

class Flagger final : public Policy {
 public:
  explicit Flagger(const FlaggerConfig& c) : c_(c) {}
  double initial_weight() const override { return 0; }

  Decision decide(const Observation& obs) override {
    if (failed_ >= c_.threshold) {
      return Decision::rollback("failed checks threshold reached " + std::to_string(failed_), c_.drain_s);
    }
    const double w = obs.weight();
    if (c_.iterations > 0 && iterations_++ == 0) {
      if (c_.mirror) return Decision::hold("starting blue/green analysis on mirrored traffic").with_mirror(c_.mirror_weight);
      return Decision::set_weight(c_.match_weight, "starting A/B testing");
    }
    if (c_.iterations == 0 && w == 0 && iterations_++ == 0) {
      return Decision::set_weight(c_.next_weight(0), "starting canary analysis");
    }
    for (const FlaggerMetric& m : c_.metrics) {
      const auto c = m.metric.value(obs.canary(m.window_s));
      std::optional<double> v = c;
      if (m.of != FlaggerMetric::Of::kCanary) {
        const auto b = m.metric.value(obs.baseline(m.window_s));
        v.reset();
        if (c && b && m.of == FlaggerMetric::Of::kDifference) v = *c - *b;
        if (c && b && m.of == FlaggerMetric::Of::kRatio && *b > 0) v = *c / *b;
      }
      if (!v) return fail("halt advancement: no values found for metric " + m.name);
      const double x = m.success_rate ? 100 * (1 - *v) : *v * m.scale;
      if (x < m.min || x > m.max) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "halt advancement: %s %.4g outside [%.4g, %.4g]", m.name.c_str(), x,
                      m.min, m.max);
        return fail(buf);
      }
    }
    if (c_.iterations > 0) {
      if (++passed_ >= c_.iterations) return Decision::promote("analysis completed successfully");
      return Decision::hold("iteration " + std::to_string(passed_) + " of " + std::to_string(c_.iterations));
    }
    if (w < c_.max_share - 1e-12) {
      const double next = c_.next_weight(w);
      return Decision::set_weight(next, "advance canary weight " + std::to_string(std::lround(next * 100)));
    }
    return Decision::promote("canary analysis completed successfully");
  }

 private:
  Decision fail(std::string why) {
    ++failed_;
    return Decision::hold(why + " (failed checks " + std::to_string(failed_) + ")");
  }
  const FlaggerConfig& c_;
  uint64_t failed_ = 0;
  uint64_t iterations_ = 0, passed_ = 0;
};

std::unique_ptr<Policy> FlaggerConfig::make() const { return std::make_unique<Flagger>(*this); }

}  // namespace

using namespace schema;
const Section kFlagger{"policy", "kind: flagger", "Flagger's canary analysis, with the keys of a Canary's spec.analysis: the weight grows by stepWeight (or along stepWeights) each interval the metrics pass; threshold failed checks roll back. With iterations: A/B testing (match_weight) or blue/green (mirror).", {
    {"kind", kText, "", "flagger", "the policy kind"},
    {"interval", kDuration, "1m", ">= 10s", "analysis interval"},
    {"threshold", kCount, "1", "[1, 10^6]", "failed checks before a rollback"},
    {"stepWeight", kPercent, "(none)", "(0, 100]", "weight added each passing interval"},
    {"stepWeights", kNumbers, "(none)", "increasing, in (0, 100]", "the weights in order, instead of stepWeight"},
    {"maxWeight", kPercent, "100 (stepWeights: the last)", "(0, 100]", "the weight at which the canary is promoted; not with stepWeights, where Flagger ignores it"},
    {"stepWeightPromotion", kPercent, "(none)", "(0, 100]", "accepted for Flagger's files; promotion here is at once"},
    {"metrics", kList, "none (promotes unjudged)", "", "section metrics[]"},
    {"rollback_drain", kDuration, "0s", ">= 0", "after a rollback, the time until no user traffic reaches the canary"},
    {"iterations", kCount, "0", "[1, 10^6]", "A/B testing or blue/green: this many intervals at a fixed share, then promotion"},
    {"match_weight", kPercent, "(none)", "(0, 100]", "A/B testing: the share of traffic the header or cookie match sends to the canary"},
    {"mirror", kFlag, "false", "", "blue/green: traffic mirrored to the canary"},
    {"mirrorWeight", kPercent, "100", "(0, 100]", "blue/green: the share of traffic mirrored"},
}};
const Section kFlaggerMetric{"policy", "kind: flagger / metrics[]", "One of a Canary's analysis metrics: Flagger's built-ins or a canarysim metric, judged against thresholdRange.", {
    {"name", kText, "", "request-success-rate, request-duration, or a canarysim metric", "the metric (built-ins in Flagger's units: percent and milliseconds)"},
    {"thresholdRange", kMap, "", "", "section metrics[].thresholdRange"},
    {"interval", kDuration, "1m", "", "the window the metric reads (Flagger's MetricInterval)"},
    {"templateRef", kAny, "(none)", "", "accepted for Flagger's files (the query is the metric's)"},
    {"scale", kNumber, "the metric's Flagger unit", "[10^-12, 10^12]", "a canarysim metric's value is multiplied by this before the range"},
    {"version", kText, "canary", "canary, ratio, difference", "judge the canary's value, or its ratio or difference to the baseline's"},
}, false};
const Section kFlaggerRange{"policy", "kind: flagger / metrics[].thresholdRange", "The passing range.", {
    {"min", kNumber, "(none)", "", "at least this"},
    {"max", kNumber, "(none)", "", "at most this"},
}};

std::unique_ptr<PolicyConfig> parse_flagger(const ConfigMap& m) {
  m.allow(kFlagger);
  auto c = std::make_unique<FlaggerConfig>();
  c->interval = m.duration("interval", c->interval);
  if (c->interval < 10) m.fail("interval", "an interval of at least 10s, as Flagger requires");
  c->threshold = m.count("threshold", c->threshold, 1, 1000000);
  if (m.has("stepWeight") && m.has("stepWeights")) m.fail("stepWeights", "either stepWeight or stepWeights");
  c->iterations = m.count("iterations", 0, 1, 1000000);
  if (c->iterations > 0) {
    for (const char* key : {"stepWeight", "stepWeights", "maxWeight"})
      if (m.has(key)) m.reject(key, std::string(key) + " and iterations: a weight ladder or A/B testing / blue/green, not both");
    c->mirror = m.flag("mirror", false);
    if (m.has("mirrorWeight")) {
      if (!c->mirror) m.reject("mirrorWeight", "mirrorWeight without mirror: true: only blue/green mirrors traffic");
      c->mirror_weight = m.percent("mirrorWeight");
      if (!(c->mirror_weight > 0 && c->mirror_weight <= 1)) m.fail("mirrorWeight", "a share in (0, 100] percent");
    }
    if (m.has("match_weight")) c->match_weight = m.percent("match_weight");
    if (c->mirror == (c->match_weight > 0))
      m.fail("iterations", "iterations with match_weight (A/B testing: the share of traffic the match sends) "
                           "or mirror: true (blue/green), one of them");
  } else if (m.has("stepWeights")) {
    const auto w = m.numbers("stepWeights");
    for (size_t i = 0; i < w.size(); ++i) {
      if (!(w[i] > 0 && w[i] <= 100)) m.fail_item("stepWeights", i, "a weight in percent, in (0, 100]");
      if (i > 0 && w[i] <= w[i - 1]) m.fail_item("stepWeights", i, "weights that increase");
      c->step_weights.push_back(w[i] / 100);
    }
    c->max_share = c->step_weights.back();
    if (m.has("maxWeight"))
      m.reject("maxWeight", "maxWeight with stepWeights: Flagger ignores it and promotes at the last entry; end stepWeights at the weight meant");
  } else {
    c->step_weight = m.percent("stepWeight");
    if (c->step_weight <= 0) m.fail("stepWeight", "a positive weight in percent");
    c->max_share = m.has("maxWeight") ? m.percent("maxWeight") : 1;
  }
  if (c->iterations == 0 && m.has("mirrorWeight"))
    m.reject("mirrorWeight", "mirrorWeight without iterations and mirror: true: only blue/green mirrors traffic");
  if (c->max_share <= 0) m.fail("maxWeight", "a positive weight in percent");
  if (m.has("stepWeightPromotion")) m.percent("stepWeightPromotion");  // checked, see above
  c->drain_s = m.duration("rollback_drain", 0);
  for (const ConfigMap& mm : m.maps("metrics")) {
    mm.allow(kFlaggerMetric);
    FlaggerMetric fm;
    fm.name = mm.text("name");
    fm.window_s = mm.duration("interval", 60);
    if (fm.name == "request-success-rate") {
      fm.metric = *Metric::parse("error_rate");
      fm.success_rate = true;
    } else if (fm.name == "request-duration") {
      fm.metric = *Metric::parse("latency_p99");
      fm.scale = 1000;
    } else {
      const auto metric = Metric::parse(fm.name);
      if (!metric) {
        mm.fail("name", "request-success-rate, request-duration or a canarysim metric name "
                        "(error_rate, ttft_p99, ... ; see policies/checks.h)");
      }
      fm.metric = *metric;
      fm.scale = metric->is_time() ? 1000 : metric->is_probability() ? 100 : 1;
      fm.scale = mm.number("scale", fm.scale, 1e-12, 1e12);
      const std::string of = mm.text("version", "canary");
      if (of == "ratio") fm.of = FlaggerMetric::Of::kRatio, fm.scale = mm.number("scale", 1, 1e-12, 1e12);
      else if (of == "difference") fm.of = FlaggerMetric::Of::kDifference;
      else if (of != "canary") mm.fail("version", "canary, ratio or difference");
    }
    const ConfigMap range = mm.map("thresholdRange");
    range.allow(kFlaggerRange);
    if (!range.has("min") && !range.has("max")) range.fail("min", "min, max or both");
    fm.min = range.number("min", fm.min, -1e300, 1e300);
    fm.max = range.number("max", fm.max, -1e300, 1e300);
    c->metrics.push_back(fm);
  }
  // No metrics: the ladder runs unjudged and always promotes (an imported Canary whose
  // checks were all webhooks or unreadable queries; import says so).
  return c;
}

}  // namespace canarysim
