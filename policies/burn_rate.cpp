// kind: burn_rate -- an SLO's error budget, judged on the canary cohort with
// multi-window, multi-burn-rate rules (Google's SRE workbook).
//
//   kind: burn_rate
//   objective: 99.9%          # share of good events the SLO promises
//   sli: error_rate           # bad events: errors; or {metric: ttft, threshold: 2s}:
//                             # requests slower than the threshold (ttft, itl or latency)
//   rules:                    # roll back when both windows of a rule burn this fast
//     - {long: 1h, short: 5m, burn_rate: 14.4}
//     - {long: 6h, short: 30m, burn_rate: 6}
//   min_requests: 500         # a window with fewer canary requests does not judge
//   steps, bake_time, interval, rollback_drain   # the ladder (policies/ladder.h)
//
// The burn rate over a window is its bad-event share divided by the budget, 1 - objective.
// The policy keeps the canary's bad and total events per interval for the longest window,
// so that windows of hours cost a few kilobytes. A window longer than the rollout so far
// uses what there is, once it holds min_requests: a 1 % canary's first minutes are too
// few requests for a budget of 0.1 %.
#include <cstdio>
#include <deque>

#include "policies/ladder.h"
#include "policies/registry.h"
#include "sim/io/config.h"
#include "sim/io/schema.h"

namespace canarysim {
namespace {

struct Rule {
  double long_s, short_s, burn_rate;
};

struct BurnRateConfig final : PolicyConfig {
  LadderSpec ladder;
  double max_weight() const override { return ladder.max_weight(); }
  double budget = 0.001;
  enum class Sli { kErrors, kTtft, kItl, kLatency } sli = Sli::kErrors;
  double threshold_s = 0;
  std::vector<Rule> rules{{3600, 300, 14.4}, {6 * 3600, 1800, 6}};
  double min_requests = 500;

  std::string kind() const override { return "burn_rate"; }
  double interval_s() const override { return ladder.interval_s; }
  double max_lookback_s() const override { return ladder.interval_s; }
  std::unique_ptr<Policy> make() const override;
};

class BurnRate final : public Policy {
 public:
  explicit BurnRate(const BurnRateConfig& c) : c_(c), ladder_(c.ladder) {}
  double initial_weight() const override { return ladder_.initial_weight(); }

  Decision decide(const Observation& obs) override {
    const WindowStats w = obs.canary(c_.ladder.interval_s);
    double bad = 0;
    switch (c_.sli) {
      case BurnRateConfig::Sli::kErrors: bad = double(w.errors); break;
      case BurnRateConfig::Sli::kTtft: bad = double(w.errors + w.ttft.count_above(c_.threshold_s)); break;
      case BurnRateConfig::Sli::kItl: bad = double(w.errors + w.itl.count_above(c_.threshold_s)); break;
      case BurnRateConfig::Sli::kLatency: bad = double(w.errors + w.latency.count_above(c_.threshold_s)); break;
    }
    history_.push_front({bad, double(w.requests)});
    double longest = 0;
    for (const Rule& r : c_.rules) longest = std::max(longest, r.long_s);
    while (history_.size() > longest / c_.ladder.interval_s + 1) history_.pop_back();
    for (const Rule& r : c_.rules) {
      const double long_burn = burn(r.long_s), short_burn = burn(r.short_s);
      if (long_burn >= r.burn_rate && short_burn >= r.burn_rate) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "burn rate %.1fx over %.0fm and %.1fx over %.0fm (limit %.1fx)", long_burn,
                      r.long_s / 60, short_burn, r.short_s / 60, r.burn_rate);
        return ladder_.rollback(buf);
      }
    }
    return ladder_.advance(obs.now());
  }

 private:
  double burn(double window_s) const {
    double bad = 0, total = 0;
    size_t n = static_cast<size_t>(window_s / c_.ladder.interval_s + 0.5);
    for (size_t i = 0; i < n && i < history_.size(); ++i) bad += history_[i].first, total += history_[i].second;
    return total >= c_.min_requests ? bad / total / c_.budget : 0;
  }
  const BurnRateConfig& c_;
  Ladder ladder_;
  std::deque<std::pair<double, double>> history_;  // (bad, total) per interval, newest first
};

std::unique_ptr<Policy> BurnRateConfig::make() const { return std::make_unique<BurnRate>(*this); }

}  // namespace

using namespace schema;
const Section kBurnRate{"policy", "kind: burn_rate", "SLO burn-rate alerts (multiwindow, as the Google SRE workbook's) on the canary's error budget.", LadderSpec::with_ladder({
    {"kind", kText, "", "burn_rate", "the policy kind"},
    {"objective", kFraction, "", "(0, 1)", "the SLO, like 99.9%"},
    {"sli", kText | kMap, "error_rate", "error_rate or section sli", "what is bad: an error, or a latency above a threshold"},
    {"rules", kList, "1h/5m at 14.4 and 6h/30m at 6", "", "section rules[]: any rule firing rolls back"},
    {"min_requests", kCount, "500", "[1, 10^9]", "canary requests in the long window before a rule judges"},
})};
const Section kBurnSli{"policy", "kind: burn_rate / sli", "A latency SLI: a request is bad when slower than the threshold.", {
    {"metric", kText, "", "ttft, itl, latency", "which latency"},
    {"threshold", kDuration, "", "> 0", "the threshold"},
}};
const Section kBurnRule{"policy", "kind: burn_rate / rules[]", "One multiwindow rule: both windows burn faster than burn_rate.", {
    {"long", kDuration, "", "", "the long window"},
    {"short", kDuration, "", "[interval, long]", "the short window"},
    {"burn_rate", kNumber, "", "[0, 10^9]", "budget consumption speed that fires"},
}};

std::unique_ptr<PolicyConfig> parse_burn_rate(const ConfigMap& m) {
  m.allow(kBurnRate);
  auto c = std::make_unique<BurnRateConfig>();
  c->ladder = LadderSpec::parse(m);
  const double objective = m.probability("objective");
  if (objective >= 1 || objective <= 0) m.fail("objective", "an objective in (0, 100%), like 99.9%");
  c->budget = 1 - objective;
  c->min_requests = static_cast<double>(m.count("min_requests", 500, 1, 1000000000));
  if (m.is_map("sli")) {
    const ConfigMap s = m.map("sli");
    s.allow(kBurnSli);
    const std::string metric = s.text("metric");
    if (metric == "ttft") c->sli = BurnRateConfig::Sli::kTtft;
    else if (metric == "itl") c->sli = BurnRateConfig::Sli::kItl;
    else if (metric == "latency") c->sli = BurnRateConfig::Sli::kLatency;
    else s.fail("metric", "ttft, itl or latency");
    c->threshold_s = s.duration("threshold");
  } else if (m.has("sli") && m.text("sli") != "error_rate") {
    m.fail("sli", "error_rate or {metric: ttft|itl|latency, threshold: DURATION}");
  }
  const auto rules = m.maps("rules");
  if (!rules.empty()) c->rules.clear();
  for (const ConfigMap& r : rules) {
    r.allow(kBurnRule);
    Rule rule{r.duration("long"), r.duration("short"), r.number("burn_rate", 0, 1e9)};
    if (rule.short_s > rule.long_s) r.fail("short", "a short window no longer than the long one");
    if (rule.short_s < c->ladder.interval_s) r.fail("short", "a window at least one interval long");
    c->rules.push_back(rule);
  }
  return c;
}

}  // namespace canarysim
