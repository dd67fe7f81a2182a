// The built-in policy kinds. Each policy file in policies/ defines one parser; the table
// in registry.cpp maps the YAML `kind` to it. Adding a policy adds one line there.
#pragma once

#include <memory>

#include "policies/policy.h"

namespace canarysim {

std::unique_ptr<PolicyConfig> parse_stepped(const ConfigMap& m);

}  // namespace canarysim
