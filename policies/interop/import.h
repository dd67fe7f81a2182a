// Turning the rollout configurations teams run today into canarysim policy files.
//
//   canarysim import argo ROLLOUT.yaml [ANALYSIS_TEMPLATES.yaml...]
//   canarysim import flagger CANARY.yaml [METRIC_TEMPLATES.yaml...]
//   canarysim import kayenta CANARY_CONFIG.json [SPINNAKER_PIPELINE.json] [--lifetime 1h --interval 15m --weight 10]
//   canarysim import aws CodeDeployDefault.LambdaCanary10Percent5Minutes
//
// Never a silent change of the policy: every query is read for its meaning
// (policies/interop/query.h), every rule kept is stated (`rules`, in canarysim's units,
// with the file:line it came from), and everything dropped or approximated is a warning
// naming file:line. What cannot be mapped is dropped for that metric, step or webhook
// only; `strict` turns any warning into a refusal.
#pragma once

#include <string>
#include <vector>

#include "sim/io/config.h"

namespace canarysim {

struct Imported {
  std::string yaml;                   // the canarysim policy file (rules as comments)
  std::vector<std::string> warnings;  // what could not be honoured, and why
  // "rule: error_rate <= 1% (from file:line ...)", one per rule kept.
  std::vector<std::string> rules;
};

// A refusal, with the warnings gathered before it (printed first).
class ImportRefused : public InputError {
 public:
  ImportRefused(const std::string& what, std::vector<std::string> warnings)
      : InputError(what), warnings(std::move(warnings)) {}
  std::vector<std::string> warnings;
};

struct ImportOptions {
  // Kayenta's configs hold no schedule (Spinnaker's canary stage does): the analysis's,
  // when no stage is given.
  std::string lifetime = "1h", interval = "15m";
  double weight_percent = 10;
  std::string name;           // which Rollout or Canary, when the files hold several
  std::string latency = "e2e";  // the SLI web request latencies stand for: e2e, ttft, itl
  bool strict = false;        // any warning refuses the import
  double match_weight = 10;   // Flagger A/B: the share (percent) the header/cookie match sends
};

// `tool`: argo, flagger, kayenta or aws; `inputs`: files (aws: strategy names).
// Throws InputError on unreadable or malformed input, naming file and key.
Imported import_policy(const std::string& tool, const std::vector<std::string>& inputs,
                       const ImportOptions& options = {});

}  // namespace canarysim
