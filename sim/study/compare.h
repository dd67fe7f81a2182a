// Comparing policies on the same scenario with common random numbers.
//
// Every policy runs the same runs (same seed, same run indices), so run i of each policy
// sees the same traffic and the same per-request draws. The comparison of policy k with
// the first is then paired, run by run: the mean of the per-run differences with a 95 %
// interval (normal approximation, valid for the hundreds of runs a study has), over the
// runs where the metric applies to both policies.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sim/study/study.h"

namespace canarysim {

struct PairedDifference {
  // The summary's names (study.h): a rate (rollback_rate, false_rollback_rate, ...: per run
  // 0 or 1) or a distribution (detection_time in seconds, blast_radius_requests, cost, ...).
  std::string metric;
  uint64_t pairs = 0;  // runs where both policies have a value
  double mean = 0;     // mean of (policy k - policy 0)
  double low = 0, high = 0;  // 95 % interval of that mean
};

struct Comparison {
  std::vector<std::string> policies;          // names, in the order given
  std::vector<Study> studies;                 // one per policy
  // differences[k]: policy k against policy 0 (empty for k = 0).
  std::vector<std::vector<PairedDifference>> differences;
};

// The metrics compared, in order.
const std::vector<std::string>& compared_metrics();

// What the compared policies' studies doubt (study_warnings(), one list per policy), as
// one list: a line every policy's list holds once, as it is; the others after the name
// of the policy they are about ("name: line"). REQUIRES: as many names as lists.
std::vector<std::string> merge_warnings(const std::vector<std::vector<std::string>>& each,
                                        const std::vector<std::string>& names);

// REQUIRES: at least one policy. `names` label the policies in reports.
Comparison compare_policies(const Scenario& scenario,
                            const std::vector<std::shared_ptr<const PolicyConfig>>& policies,
                            const std::vector<std::string>& names, const StudyOptions& options);

}  // namespace canarysim
