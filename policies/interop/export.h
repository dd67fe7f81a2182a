// Writing a canarysim policy back as the configuration a team applies:
//
//   canarysim export-policy argo POLICY.yaml [--out DIR] [--metrics MAPPING.yaml]
//     -> rollout.yaml (a Rollout) and analysis-templates.yaml (its AnalysisTemplates)
//   canarysim export-policy flagger POLICY.yaml [--out DIR] [--metrics MAPPING.yaml]
//     -> canary.yaml (a Canary) and metric-templates.yaml (its MetricTemplates)
//
// `kind: argo` policies export to Argo Rollouts and `kind: flagger` policies to Flagger,
// exactly: `canarysim import` of the output gives back a policy whose study is the same
// run for run (tests/export_test.cpp checks it on the presets). Every other kind is
// refused with the reason (a stepped ladder, Kayenta's judge, the gate policies and plans
// have no exact form in either tool). What the tools have no field for (canarysim's
// tick, rollback_drain, the A/B match weight) travels as `canarysim.io/...`
// annotations, which the tools ignore and import reads.
//
// Each SLI becomes PromQL by a mapping file (default_metric_mapping(): vLLM's metric
// names, and the selectors Argo's pod template hashes and Flagger's -primary
// deployment give). Edit a copy (`export-policy --print-metrics`) for your names.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace canarysim {

struct Exported {
  std::vector<std::pair<std::string, std::string>> files;  // file name, YAML text
  std::vector<std::string> warnings;
};

// `tool`: argo or flagger. `mapping_path`: "" for the default mapping.
// Throws InputError naming the file and key for a policy the tool cannot express.
Exported export_policy(const std::string& tool, const std::string& policy_path, const std::string& mapping_path = "",
                       const std::string& name = "llm-serving");

// The default metric mapping file's text.
const std::string& default_metric_mapping();

}  // namespace canarysim
