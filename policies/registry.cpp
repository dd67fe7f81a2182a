#include "policies/registry.h"

#include <algorithm>
#include <map>

#include "sim/io/config.h"
#include "sim/io/schema.h"

namespace canarysim {
namespace {

// kind -> parser. The one place that lists the built-in policies.
const std::map<std::string, PolicyParser>& registry() {
  static const std::map<std::string, PolicyParser> kinds = {
      {"stepped", &parse_stepped},       {"flagger", &parse_flagger},
      {"argo", &parse_argo},             {"kayenta", &parse_kayenta},
      {"sequential", &parse_sequential}, {"burn_rate", &parse_burn_rate},
      {"cusum", &parse_cusum},           {"ewma", &parse_ewma},
      {"drift", &parse_drift},           {"composite", &parse_composite},
      {"plan", &parse_plan},
  };
  return kinds;
}

}  // namespace

const char* action_name(Decision::Action a) {
  switch (a) {
    case Decision::Action::kHold: return "hold";
    case Decision::Action::kSetWeight: return "set_weight";
    case Decision::Action::kPromote: return "promote";
    case Decision::Action::kRollback: return "rollback";
  }
  return "?";
}

using namespace schema;
const Section kDeployment{"policy", "deployment (every kind)", "How the two versions' pools are sized as the weight moves (Argo Rollouts' dynamicStableScale and setCanaryScale).", {
    {"stable_scale", kText, "static", "static, dynamic", "dynamic: the baseline's pool shrinks as the canary's grows"},
    {"canary_scale", kText, "weight", "weight, full", "the canary's pool: sized for its weight, or a full fleet from the start"},
    {"prescale", kFlag, "false", "", "size the canary's pool for the next weight before moving to it"},
}};

Deployment Deployment::parse(const ConfigMap& policy) {
  Deployment d;
  if (!policy.has("deployment")) return d;
  const ConfigMap m = policy.map("deployment");
  m.allow(kDeployment);
  const std::string stable = m.text("stable_scale", "static");
  if (stable != "static" && stable != "dynamic") m.fail("stable_scale", "static or dynamic");
  d.dynamic_stable = stable == "dynamic";
  const std::string canary = m.text("canary_scale", "weight");
  if (canary != "weight" && canary != "full") m.fail("canary_scale", "weight or full");
  d.full_canary = canary == "full";
  d.prescale = m.flag("prescale", false);
  if (d.prescale && d.full_canary) m.fail("prescale", "no prescale with canary_scale: full (a full fleet needs none)");
  return d;
}

std::vector<std::string> policy_kinds() {
  std::vector<std::string> out;
  for (const auto& [kind, parser] : registry()) out.push_back(kind);
  return out;
}

std::shared_ptr<const PolicyConfig> parse_policy(const ConfigMap& m) {
  const std::string kind = m.text("kind");
  const auto it = registry().find(kind);
  if (it == registry().end()) {
    std::string known;
    for (const auto& k : policy_kinds()) known += (known.empty() ? "" : ", ") + k;
    const std::string guess = nearest(kind, policy_kinds());
    m.reject("kind", "unknown policy kind '" + kind + "'" +
                         (guess.empty() ? "" : " (did you mean '" + guess + "'?)") +
                         "; expected one of: " + known);
  }
  std::unique_ptr<PolicyConfig> config = it->second(m.permitting({"deployment"}));
  config->deployment = Deployment::parse(m);
  config->source = m.dump();
  return config;
}

std::shared_ptr<const PolicyConfig> load_policy_file(const std::string& path) {
  return parse_policy(ConfigMap::parse_file(path));
}

}  // namespace canarysim
