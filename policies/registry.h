// The built-in policy kinds. Each policy file in policies/ defines one parser; the table
// in registry.cpp maps the YAML `kind` to it. Adding a policy adds one line there.
#pragma once

#include <memory>

#include "policies/policy.h"

namespace canarysim {

std::unique_ptr<PolicyConfig> parse_stepped(const ConfigMap& m);
std::unique_ptr<PolicyConfig> parse_flagger(const ConfigMap& m);
std::unique_ptr<PolicyConfig> parse_argo(const ConfigMap& m);
std::unique_ptr<PolicyConfig> parse_kayenta(const ConfigMap& m);
std::unique_ptr<PolicyConfig> parse_sequential(const ConfigMap& m);
std::unique_ptr<PolicyConfig> parse_burn_rate(const ConfigMap& m);
std::unique_ptr<PolicyConfig> parse_cusum(const ConfigMap& m);
std::unique_ptr<PolicyConfig> parse_ewma(const ConfigMap& m);
std::unique_ptr<PolicyConfig> parse_drift(const ConfigMap& m);
std::unique_ptr<PolicyConfig> parse_composite(const ConfigMap& m);
std::unique_ptr<PolicyConfig> parse_plan(const ConfigMap& m);

}  // namespace canarysim
