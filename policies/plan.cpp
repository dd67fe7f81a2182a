// kind: plan -- a rollout plan: a graph of stages, each a policy over some segments.
//
//   kind: plan
//   stages:
//     - name: internal
//       segments: [internal]          # the canary serves only these during the stage
//       policy: {kind: stepped, steps: [100], bake_time: 15m, checks: [...]}
//     - name: eu
//       after: [internal]
//       segments: [internal, eu-west]
//       policy: {kind: stepped, steps: [10, 50, 100], bake_time: 10m, checks: [...]}
//     - name: everyone
//       after: [eu]                   # no segments: every segment
//       policy: {kind: stepped, ...}
//
// Boost.Graph checks that the stages form a graph without cycles (naming a cycle if not)
// and orders them; stages run one after another in that order. A stage's weights apply
// within its segments; when its policy promotes, the next stage starts from its own
// initial weight; when any stage rolls back, the plan does. Promoting the last stage
// promotes the plan. Region waves (internal -> one region -> the rest) and strategy
// chains (shadow -> canary -> A/B -> full, with shadow and A/B as stepped policies) are
// both plans.
#include <algorithm>
#include <map>

#include "policies/policy.h"
#include "policies/registry.h"
#include "sim/io/config.h"
#include "sim/io/schema.h"
#include "sim/model/graph.h"

namespace canarysim {
namespace {

struct Stage {
  std::string name;
  std::vector<std::string> segments;  // empty: every segment
  std::shared_ptr<const PolicyConfig> policy;
};

struct PlanConfig final : PolicyConfig {
  std::vector<Stage> stages;  // in execution order
  std::string kind() const override { return "plan"; }
  double interval_s() const override {
    double t = stages[0].policy->interval_s();
    for (const Stage& s : stages) t = std::min(t, s.policy->interval_s());
    return t;
  }
  double max_lookback_s() const override {
    double t = 0;
    for (const Stage& s : stages) t = std::max(t, s.policy->max_lookback_s());
    return t;
  }
  std::vector<std::string> segments_used() const override {
    std::vector<std::string> out;
    for (const Stage& s : stages) out.insert(out.end(), s.segments.begin(), s.segments.end());
    return out;
  }
  std::unique_ptr<Policy> make() const override;
};

std::vector<std::string> or_all(const std::vector<std::string>& s) {
  return s.empty() ? std::vector<std::string>{"*"} : s;
}

class Plan final : public Policy {
 public:
  explicit Plan(const PlanConfig& c) : c_(c) { start(0, 0); }
  double initial_weight() const override { return stage_policy_->initial_weight(); }
  double initial_mirror() const override { return stage_policy_->initial_mirror(); }
  std::vector<std::string> initial_segments() const override { return or_all(c_.stages[0].segments); }

  Decision decide(const Observation& obs) override {
    const Stage& stage = c_.stages[index_];
    if (obs.now() + 1e-9 < next_) return Decision::hold("stage " + stage.name);
    next_ = obs.now() + stage.policy->interval_s();
    Decision d = stage_policy_->decide(obs.with_weight(weight_));
    d.reason = "stage " + stage.name + ": " + d.reason;
    if (d.action == Decision::Action::kSetWeight) weight_ = d.weight;
    if (d.action != Decision::Action::kPromote) return d;
    if (index_ + 1 == c_.stages.size()) return d;  // the last stage promotes the plan
    start(index_ + 1, obs.now());
    const Stage& next = c_.stages[index_];
    return Decision::set_weight(weight_, "stage " + stage.name + " passed; stage " + next.name + " starts")
        .with_segments(or_all(next.segments))
        .with_mirror(stage_policy_->initial_mirror());
  }

 private:
  void start(size_t i, double now) {
    index_ = i;
    stage_policy_ = c_.stages[i].policy->make();
    weight_ = stage_policy_->initial_weight();
    next_ = now + c_.stages[i].policy->interval_s();
  }
  const PlanConfig& c_;
  size_t index_ = 0;
  std::unique_ptr<Policy> stage_policy_;
  double weight_ = 0, next_ = 0;
};

std::unique_ptr<Policy> PlanConfig::make() const { return std::make_unique<Plan>(*this); }

}  // namespace

using namespace schema;
const Section kPlan{"policy", "kind: plan", "A rollout in stages over traffic segments (regions, tiers), each with its own policy, ordered by `after`.", {
    {"kind", kText, "", "plan", "the policy kind"},
    {"stages", kList, "", "at least one, no cycles", "section stages[]"},
}};
const Section kStage{"policy", "kind: plan / stages[]", "One stage.", {
    {"name", kText, "", "unique", "the stage's name"},
    {"after", kTexts, "none", "stage names", "stages that must promote first"},
    {"segments", kTexts, "", "segment names", "the traffic segments this stage rolls out to"},
    {"policy", kMap, "", "", "the stage's policy: a policy mapping of any kind"},
}};

std::unique_ptr<PolicyConfig> parse_plan(const ConfigMap& m) {
  m.allow(kPlan);
  const std::vector<ConfigMap> items = m.maps("stages");
  if (items.empty()) m.fail("stages", "a list of at least one stage");
  std::vector<Stage> stages;
  std::map<std::string, size_t> index;
  for (const ConfigMap& s : items) {
    s.allow(kStage);
    Stage st;
    st.name = s.text("name");
    if (index.count(st.name)) s.fail("name", "a stage name not used before");
    st.segments = s.texts("segments");
    st.policy = parse_policy(s.map("policy"));
    index[st.name] = stages.size();
    stages.push_back(st);
  }
  std::vector<std::pair<size_t, size_t>> edges;
  for (size_t i = 0; i < items.size(); ++i) {
    const auto after = items[i].texts("after");
    for (size_t j = 0; j < after.size(); ++j) {
      const auto it = index.find(after[j]);
      if (it == index.end()) items[i].fail_item("after", j, "the name of a stage of this plan");
      edges.emplace_back(it->second, i);
    }
  }
  const GraphOrder g = order_graph(stages.size(), edges);
  if (!g.cycle.empty()) {
    std::string path;
    for (size_t v : g.cycle) path += stages[v].name + " -> ";
    m.reject("stages", "the stages form a cycle: " + path + stages[g.cycle.front()].name +
                           "; expected a plan without cycles");
  }
  auto c = std::make_unique<PlanConfig>();
  for (size_t v : g.order) c->stages.push_back(stages[v]);
  return c;
}

}  // namespace canarysim
