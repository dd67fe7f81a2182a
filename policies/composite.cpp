// kind: composite -- several policies judged together.
//
//   kind: composite
//   rollback: any_of          # roll back when any child does (all_of: when every one has)
//   promote: all_of           # promote when every child has (any_of: when one does)
//   policies:                 # policy mappings, as in a policy file
//     - {kind: stepped, ...}
//     - {kind: sequential, ...}
//
// Every child runs its own schedule on the same observations and keeps its own view of
// the weight; the canary gets the lowest weight a child still asks for (a promoted child
// asks for 100 %). The composite looks as often as its most frequent child, and asks
// each child only when that child's interval has passed. A rollback drains over the
// longest drain the rolling-back children asked for.
#include <algorithm>
#include <limits>

#include "policies/policy.h"
#include "policies/registry.h"
#include "sim/io/config.h"
#include "sim/io/schema.h"

namespace canarysim {
namespace {

struct CompositeConfig final : PolicyConfig {
  std::vector<std::shared_ptr<const PolicyConfig>> children;
  bool rollback_all = false, promote_any = false;
  std::string kind() const override { return "composite"; }
  double interval_s() const override {
    double t = std::numeric_limits<double>::infinity();
    for (const auto& c : children) t = std::min(t, c->interval_s());
    return t;
  }
  double max_lookback_s() const override {
    double t = 0;
    for (const auto& c : children) t = std::max(t, c->max_lookback_s());
    return t;
  }
  std::unique_ptr<Policy> make() const override;
  std::string weighs_counts() const override {
    for (const auto& c : children)
      if (std::string w = c->weighs_counts(); !w.empty()) return c->kind() + " child: " + w;
    return {};
  }
};

class Composite final : public Policy {
 public:
  explicit Composite(const CompositeConfig& c) : c_(c) {
    for (const auto& child : c.children) {
      kids_.push_back({child->make(), child->interval_s(), 0, 0, false, false, 0, ""});
      kids_.back().weight = kids_.back().policy->initial_weight();
      kids_.back().next = child->interval_s();
    }
  }
  double initial_weight() const override { return weight(); }

  Decision decide(const Observation& obs) override {
    const double now = obs.now();
    for (Kid& k : kids_) {
      if (k.rolled_back || k.promoted || now + 1e-9 < k.next) continue;
      k.next += k.interval;
      const Decision d = k.policy->decide(obs.with_weight(k.weight));
      k.last = d.reason;
      if (d.action == Decision::Action::kSetWeight) k.weight = d.weight;
      if (d.action == Decision::Action::kPromote) k.promoted = true, k.weight = 1;
      if (d.action == Decision::Action::kRollback) k.rolled_back = true, k.drain = d.drain_s;
    }
    const auto count = [&](auto pred) { return std::count_if(kids_.begin(), kids_.end(), pred); };
    const size_t n = kids_.size();
    const size_t back = count([](const Kid& k) { return k.rolled_back; });
    const size_t done = count([](const Kid& k) { return k.promoted; });
    if ((!c_.rollback_all && back > 0) || back == n) {
      double drain = 0;
      std::string why;
      for (size_t i = 0; i < n; ++i) {
        if (!kids_[i].rolled_back) continue;
        drain = std::max(drain, kids_[i].drain);
        why += (why.empty() ? "" : "; ") + std::string("policy ") + std::to_string(i + 1) + " (" +
               c_.children[i]->kind() + "): " + kids_[i].last;
      }
      return Decision::rollback(why, drain);
    }
    if ((c_.promote_any && done > 0) || done == n) return Decision::promote("promoted by the children");
    return Decision::set_weight(weight(), "composite of " + std::to_string(n) + " policies");
  }

 private:
  struct Kid {
    std::unique_ptr<Policy> policy;
    double interval, next, weight;
    bool promoted, rolled_back;
    double drain;
    std::string last;
  };
  double weight() const {
    double w = 1;
    for (const Kid& k : kids_)
      if (!k.rolled_back) w = std::min(w, k.weight);
    return w;
  }
  const CompositeConfig& c_;
  std::vector<Kid> kids_;
};

std::unique_ptr<Policy> CompositeConfig::make() const { return std::make_unique<Composite>(*this); }

}  // namespace

using namespace schema;
const Section kComposite{"policy", "kind: composite", "Several policies judging one rollout together; the weight follows the slowest.", {
    {"kind", kText, "", "composite", "the policy kind"},
    {"rollback", kText, "any_of", "any_of, all_of", "roll back when any child (or all) would"},
    {"promote", kText, "all_of", "any_of, all_of", "promote when all children (or any) would"},
    {"policies", kList, "", "at least two", "the children: policy mappings of any kind"},
}};

std::unique_ptr<PolicyConfig> parse_composite(const ConfigMap& m) {
  m.allow(kComposite);
  auto c = std::make_unique<CompositeConfig>();
  const std::string rollback = m.text("rollback", "any_of"), promote = m.text("promote", "all_of");
  if (rollback != "any_of" && rollback != "all_of") m.fail("rollback", "any_of or all_of");
  if (promote != "any_of" && promote != "all_of") m.fail("promote", "any_of or all_of");
  c->rollback_all = rollback == "all_of";
  c->promote_any = promote == "any_of";
  for (const ConfigMap& p : m.maps("policies")) c->children.push_back(parse_policy(p));
  if (c->children.size() < 2) m.fail("policies", "a list of at least two policies");
  return c;
}

}  // namespace canarysim
