#include "policies/ladder.h"

#include "sim/io/config.h"
#include "sim/io/schema.h"

namespace canarysim {

const std::vector<std::string>& LadderSpec::keys() {
  static const std::vector<std::string> k = {"steps", "bake_time", "interval", "rollback_drain"};
  return k;
}

std::vector<SchemaField> LadderSpec::with_ladder(std::vector<SchemaField> own) {
  using namespace schema;
  own.insert(own.end(), {
      {"steps", kNumbers, "[1, 5, 10, 25, 50, 100]", "increasing, in (0, 100]", "canary weights in percent (the ladder)"},
      {"bake_time", kDuration, "10m", ">= 0", "the least time at each weight"},
      {"interval", kDuration, "1m", "> 0", "analysis interval"},
      {"rollback_drain", kDuration, "0s", ">= 0", "after a rollback, the time until no user traffic reaches the canary"}});
  return own;
}

LadderSpec LadderSpec::parse(const ConfigMap& m) {
  LadderSpec l;
  if (m.has("steps")) {
    const std::vector<double> percent = m.numbers("steps");
    l.steps.clear();
    for (size_t i = 0; i < percent.size(); ++i) {
      if (!(percent[i] > 0 && percent[i] <= 100))
        m.fail_item("steps", i, "a canary weight in percent, in (0, 100]");
      if (i > 0 && percent[i] <= percent[i - 1])
        m.fail_item("steps", i, "weights that increase from step to step");
      l.steps.push_back(percent[i] / 100);
    }
  }
  l.bake_time_s = m.duration("bake_time", l.bake_time_s);
  l.interval_s = m.duration("interval", l.interval_s);
  if (l.interval_s <= 0) m.fail("interval", "a positive duration");
  l.rollback_drain_s = m.duration("rollback_drain", l.rollback_drain_s);
  return l;
}

Decision Ladder::advance(double now, const std::string& why_not_yet) {
  if (now - started_ < spec_.bake_time_s - 1e-9) return Decision::hold(why_not_yet);
  ++step_;
  started_ = now;
  if (step_ >= spec_.steps.size() || spec_.steps[step_] >= 1.0)
    return Decision::promote("all steps passed");
  return Decision::set_weight(spec_.steps[step_],
                              "step " + std::to_string(step_ + 1) + " of " + std::to_string(spec_.steps.size()));
}

}  // namespace canarysim
