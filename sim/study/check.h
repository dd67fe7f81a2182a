// A CI gate for policy changes: a suite of (scenario, policy) cases run with fixed seeds,
// checked against budgets and against a committed baseline.
//
//   name: preset policies
//   runs: 300                     # per case (default 300)
//   seed: 1
//   baseline: presets-baseline.json   # relative to this file; written by --update-baseline
//   cases:
//     - name: stepped-aa
//       scenario: ../../scenarios/aa-null.yaml
//       policy: ../../policies/presets/stepped.yaml   # default: the scenario's
//       budgets:                  # any summary metric (sim/study/study.h); breached when exceeded
//         false_rollback_rate: 2%
//         missed_regression_rate: 1%
//         detection_time_p90: 15m
//         time_to_mitigate_p90: 20m
//         blast_radius_requests_mean: 5000
//         rollout_duration_p50: 2h
//
// Seeds are fixed, so a case's results change only when the code, the policy or the
// scenario does. Against the baseline, a change is flagged only when it exceeds the
// run-to-run noise of a study of this size: three standard errors of the difference of
// two independent studies (binomial for rates, the runs' standard deviation for means),
// a conservative bound since both use the same seeds.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace canarysim {

struct CheckOutcome {
  bool budgets_ok = true;   // every case within its budgets
  bool baseline_ok = true;  // no change beyond noise against the baseline (or none yet)
  bool baseline_found = false;
  std::string report;       // what a person reads
  std::string new_baseline; // JSON of this run's figures
};

// Reads the suite and every case's files without running anything; a one-line summary.
// Throws InputError on a bad suite.
std::string load_check_suite(const std::string& suite_path);

// Throws InputError on a bad suite. `update_baseline` writes new_baseline to the file.
CheckOutcome run_check(const std::string& suite_path, bool update_baseline, unsigned threads);

}  // namespace canarysim
