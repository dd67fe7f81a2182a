// Turning the rollout configurations teams run today into canarysim policy files.
//
//   canarysim import argo ROLLOUT.yaml [ANALYSIS_TEMPLATES.yaml...]
//   canarysim import flagger CANARY.yaml
//   canarysim import kayenta CANARY_CONFIG.json [--lifetime 1h --interval 15m --weight 10]
//   canarysim import aws CodeDeployDefault.LambdaCanary10Percent5Minutes
//
// Every field canarysim cannot honour is named in a warning, never dropped silently.
// Metric queries map to canarysim metrics by the table in metric_for_query():
//
//   the query mentions                          canarysim metric
//   time_to_first_token / ttft                  ttft_pXX (XX from histogram_quantile)
//   inter_token / time_per_output_token / itl   itl_pXX
//   request_duration / latency / e2e            latency_pXX
//   5xx, code=~"5.."/"5.*", error, fail         error_rate (success_rate when the query
//                                               divides non-errors by the total)
//   hallucination, unsafe, quality, cost        hallucination_rate, unsafe_rate,
//                                               quality_mean, cost_per_request
#pragma once

#include <string>
#include <vector>

namespace canarysim {

struct Imported {
  std::string yaml;                   // the canarysim policy file
  std::vector<std::string> warnings;  // what could not be honoured, and why
};

struct ImportOptions {
  // Kayenta's configs hold no schedule (Spinnaker's canary stage does): the analysis's.
  std::string lifetime = "1h", interval = "15m";
  double weight_percent = 10;
};

// `tool`: argo, flagger, kayenta or aws; `inputs`: files (aws: strategy names).
// Throws InputError on unreadable or malformed input, naming file and key.
Imported import_policy(const std::string& tool, const std::vector<std::string>& inputs,
                       const ImportOptions& options = {});

// The canarysim metric a monitoring query measures, or "" when the table has no match.
std::string metric_for_query(const std::string& query);

}  // namespace canarysim
