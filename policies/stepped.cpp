// kind: stepped -- a fixed ladder of canary weights, each baked under analysis.
//
// The shape of an Argo Rollouts canary with `setWeight`/`pause` steps and a background
// analysis:
//   kind: stepped
//   steps: [1, 5, 10, 25, 50, 100]  # canary weight in percent, increasing (default)
//   bake_time: 10m       # time at each weight before the next (default 10m)
//   interval: 1m         # analysis interval; every check reads the last interval (default 1m)
//   failure_limit: 2     # failed analyses tolerated over the rollout; one more rolls back,
//                        # as Argo's failureLimit (default 2)
//   rollback_drain: 30s  # after rollback the canary weight falls linearly to 0 over this
//                        # (default 0: at once)
//   shadow: {share: 100%, duration: 20m}  # first, shadow traffic only: that share of
//                        # requests is copied to the canary (answers discarded, no user
//                        # sees one) under the same checks; then the ladder (default: none)
//   final_bake: 0s       # time at 100 % under the same checks before the rollout is done
//                        # (AWS AppConfig's final bake; default 0: promote on reaching 100);
//                        # checks without data (ratios: no baseline) do not object there
//   checks:              # see policies/checks.h
//     - {metric: error_rate, max: 1%}
//     - {metric: ttft_p99, max_ratio: 1.2, min_samples: 50}
//
// At each tick: a failed check counts one failure (several failing checks in one tick
// count one), and the rollout rolls back once failures exceed failure_limit. A tick with
// a failure, or with a check lacking data, never advances the weight. A tick where every
// check passes advances to the next step once the current one has baked for bake_time.
// Leaving the last step below 100, or reaching a step of 100, promotes.
#include <algorithm>
#include <cmath>
#include <memory>

#include "policies/checks.h"
#include "policies/ladder.h"
#include "policies/policy.h"
#include "policies/registry.h"
#include "sim/io/config.h"
#include "sim/io/schema.h"

namespace canarysim {
namespace {

struct SteppedConfig final : PolicyConfig {
  std::vector<double> steps{0.01, 0.05, 0.10, 0.25, 0.50, 1.0};  // fractions
  double bake_time_s = 600;
  double interval = 60;
  uint64_t failure_limit = 2;
  double rollback_drain_s = 0;
  double final_bake_s = 0;
  double shadow_share = 0, shadow_s = 0;
  std::vector<Check> checks;

  std::string kind() const override { return "stepped"; }
  double max_weight() const override {
    const double w = final_bake_s > 0 ? *std::max_element(steps.begin(), steps.end()) : LadderSpec::served_max(steps);
    return std::max(w, shadow_share);
  }
  double interval_s() const override { return interval; }
  double max_lookback_s() const override { return interval; }
  std::unique_ptr<Policy> make() const override;
  std::vector<SampleNeed> sample_needs() const override {
    std::vector<SampleNeed> out;
    for (size_t i = 0; i < checks.size(); ++i) {
      SampleNeed n = request_need("checks[" + std::to_string(i) + "]", checks[i].name, checks[i].metric,
                                  static_cast<double>(checks[i].min_samples), interval,
                                  shadow_s > 0 ? shadow_share : steps[0]);
      // An absolute bound on a rate that one event breaches is a coin flip on rare events.
      if (checks[i].metric.is_rate() && checks[i].max && *checks[i].max > 0 &&
          std::ceil(1 / *checks[i].max - 1e-9) > n.requests) {
        n.requests = std::ceil(1 / *checks[i].max - 1e-9);
        n.why = "one event in fewer breaches its max";
      }
      out.push_back(n);
    }
    return out;
  }
};

class Stepped final : public Policy {
 public:
  explicit Stepped(const SteppedConfig& c) : c_(c) {}

  double initial_weight() const override { return c_.shadow_s > 0 ? 0 : c_.steps[0]; }
  double initial_mirror() const override { return c_.shadow_s > 0 ? c_.shadow_share : 0; }

  Decision decide(const Observation& obs) override {
    const WindowStats canary = obs.canary(c_.interval);
    const WindowStats baseline = obs.baseline(c_.interval);
    std::string failed, waiting;
    for (const Check& check : c_.checks) {
      const CheckResult r = check.evaluate(canary, baseline);
      if (r.status == CheckResult::Status::kFail) failed += (failed.empty() ? "" : "; ") + r.text;
      if (r.status == CheckResult::Status::kNoData)
        waiting += (waiting.empty() ? "" : "; ") + r.text;
    }
    if (!failed.empty()) {
      ++failures_;
      const std::string count =
          "failed analysis " + std::to_string(failures_) + " (limit " +
          std::to_string(c_.failure_limit) + "): " + failed;
      if (failures_ > c_.failure_limit) return Decision::rollback(count, c_.rollback_drain_s);
      return Decision::hold(count);
    }
    // At 100 % the baseline has no traffic: only absolute checks (alarms) judge there.
    if (!waiting.empty() && !final_) return Decision::hold("waiting for data: " + waiting);
    if (shadowing_) {  // the shadow phase ends like a step: baked, and this tick passed
      if (obs.now() < c_.shadow_s - 1e-9) return Decision::hold("shadow traffic");
      shadowing_ = false;
      step_started_ = obs.now();
      return Decision::set_weight(c_.steps[0], "shadow passed; step 1 of " + std::to_string(c_.steps.size()))
          .with_mirror(0);
    }
    // A tick lands a hair before the bake ends when interval does not divide it exactly.
    const double bake = final_ ? c_.final_bake_s : c_.bake_time_s;
    if (obs.now() - step_started_ < bake - 1e-9) return Decision::hold(final_ ? "final bake" : "baking");
    ++step_;
    step_started_ = obs.now();
    if (step_ > c_.steps.size() || (final_ && step_ >= c_.steps.size()))
      return Decision::promote("final bake passed");
    if (step_ >= c_.steps.size() || c_.steps[step_] >= 1.0) {
      if (c_.final_bake_s <= 0) return Decision::promote("all steps passed");
      final_ = true;  // bake at 100 % before the rollout is done
      step_ = c_.steps.size();
      return Decision::set_weight(1.0, "final bake");
    }
    return Decision::set_weight(c_.steps[step_], "step " + std::to_string(step_ + 1) + " of " +
                                                     std::to_string(c_.steps.size()));
  }

 private:
  const SteppedConfig& c_;
  size_t step_ = 0;
  bool final_ = false;
  bool shadowing_ = c_.shadow_s > 0;
  double step_started_ = 0;
  uint64_t failures_ = 0;
};

std::unique_ptr<Policy> SteppedConfig::make() const { return std::make_unique<Stepped>(*this); }

}  // namespace

using namespace schema;
const Section kStepped{"policy", "kind: stepped", "A fixed ladder of canary weights, each held for a bake time while checks run every interval; failure_limit failed analyses roll back.", {
    {"kind", kText, "", "stepped", "the policy kind"},
    {"steps", kNumbers, "[1, 5, 10, 25, 50, 100]", "increasing, in (0, 100]", "canary weights in percent"},
    {"bake_time", kDuration, "10m", ">= 0", "how long each step is held"},
    {"interval", kDuration, "1m", "> 0", "analysis interval"},
    {"failure_limit", kCount, "2", "[0, 10^6]", "failed analyses tolerated; one more rolls back"},
    {"rollback_drain", kDuration, "0s", ">= 0", "after a rollback, the time until no user traffic reaches the canary"},
    {"final_bake", kDuration, "0s", ">= 0", "a last hold at the top weight before promotion"},
    {"shadow", kMap, "(none)", "", "mirrored traffic before the first step: section shadow"},
    {"checks", kList, "", "at least one", "section checks[]"},
}};
const Section kShadow{"policy", "kind: stepped / shadow", "Shadow traffic: a share mirrored to the canary, judged and billed, serving no user.", {
    {"share", kPercent, "", "(0, 100]", "share of traffic mirrored"},
    {"duration", kDuration, "", "> 0", "how long"},
}};

std::unique_ptr<PolicyConfig> parse_stepped(const ConfigMap& m) {
  m.allow(kStepped);
  auto c = std::make_unique<SteppedConfig>();
  if (m.has("steps")) {
    const std::vector<double> percent = m.numbers("steps");
    c->steps.clear();
    for (size_t i = 0; i < percent.size(); ++i) {
      if (!(percent[i] > 0 && percent[i] <= 100))
        m.fail_item("steps", i, "a canary weight in percent, in (0, 100]");
      if (i > 0 && percent[i] <= percent[i - 1])
        m.fail_item("steps", i, "weights that increase from step to step");
      c->steps.push_back(percent[i] / 100);
    }
  }
  c->bake_time_s = m.duration("bake_time", c->bake_time_s);
  c->interval = m.duration("interval", c->interval);
  if (c->interval <= 0) m.fail("interval", "a positive duration");
  c->failure_limit = m.count("failure_limit", c->failure_limit, 0, 1000000);
  c->rollback_drain_s = m.duration("rollback_drain", c->rollback_drain_s);
  c->final_bake_s = m.duration("final_bake", 0);
  if (m.has("shadow")) {
    const ConfigMap sh = m.map("shadow");
    sh.allow(kShadow);
    c->shadow_share = sh.percent("share");
    c->shadow_s = sh.duration("duration");
    if (c->shadow_share <= 0 || c->shadow_s <= 0) sh.fail("duration", "a positive share and duration of shadow traffic");
  }
  for (const ConfigMap& check : m.maps("checks")) c->checks.push_back(Check::parse(check));
  if (c->checks.empty()) m.fail("checks", "a list of at least one check");
  return c;
}

}  // namespace canarysim
