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
//   tolerance: {detection_time: 10%, false_rollback_rate: 1%}   # suite-wide, or per case
//   max_runs: 3200                # the cap of --runs auto
//   (a case may set its own `runs` and `tolerance`)
//
// Seeds are fixed, so a case's results change only when the code, the policy or the
// scenario does. The baseline keeps every run's figures, so that the comparison is
// paired run by run on common random numbers: for each figure (false rollback and missed
// regression, per run 0 or 1; detection time, blast radius in requests, rollout duration
// and the user requests that failed, where they apply) the mean per-run difference with its 95 % interval. The
// check is one-sided: a figure breaches only when it is WORSE, its interval wholly above
// the tolerance (rates: absolute points, default 0; the others: relative to the
// baseline's mean, default 5 %); better figures are reported and never fail; a figure
// whose interval straddles the tolerance is undecided. With --runs auto, runs are added in
// order (doubling; the same runs every time) until no figure is undecided, up to
// max_runs and the baseline's runs, and the runs used are printed. Budgets are absolute
// limits on summary metrics, checked on the runs used.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "sim/study/study.h"

namespace canarysim {

// One case as checked: its study, its budgets, and each figure against the baseline.
struct CheckCase {
  struct Budget {
    std::string metric;  // a summary metric (study.h)
    double value = 0, limit = 0;
    bool ok = true;      // within (a figure that does not apply is within)
  };
  struct Change {
    std::string figure;   // false_rollback_rate, detection_time, ...
    std::string verdict;  // WORSE, better, same, undecided
    bool rate = false;    // a rate: mean, low, high and tolerance in absolute points of [0, 1]
    double mean = 0, low = 0, high = 0, tolerance = 0;  // the paired difference, now minus baseline
    uint64_t pairs = 0;
  };
  std::string name, scenario_text, policy_text;
  uint64_t runs = 0;
  Study study;
  std::vector<Budget> budgets;
  std::vector<Change> changes;  // empty without a baseline for the case
  std::string note;             // "new case, not in the baseline", ... ("" when none)
  std::vector<std::string> warnings;  // what its study doubts (study_warnings(), sim/model/scenario.h)
};

struct CheckOutcome {
  bool budgets_ok = true;   // every case within its budgets
  bool baseline_ok = true;  // no change beyond noise against the baseline (or none yet)
  bool baseline_found = false;
  std::string report;       // what a person reads
  std::string new_baseline; // JSON of this run's figures
  std::string suite, suite_file, suite_text;  // the suite's name, file and text
  uint64_t seed = 1;
  size_t undecided = 0;     // figures whose interval straddles the tolerance
  std::vector<CheckCase> cases;
};
// The outcome as GitHub-flavoured Markdown (a CI job summary): the verdict, then per case
// its figures, budgets and changes against the baseline.
void write_check_markdown(std::ostream& out, const CheckOutcome& outcome);

// Reads the suite and every case's files without running anything; a one-line summary.
// The keys of a suite file's top level.
const std::vector<std::string>& check_suite_keys();

// Throws InputError on a bad suite.
std::string load_check_suite(const std::string& suite_path);

struct CheckOptions {
  bool update_baseline = false;  // write new_baseline to the suite's baseline file
  unsigned threads = 0;
  uint64_t runs = 0;             // > 0: every case's runs (the suite's otherwise)
  bool auto_runs = false;        // --runs auto (with update_baseline: record max_runs runs)
  std::function<void(uint64_t, uint64_t)> progress;  // (runs done, runs planned); may be empty
};

// Throws InputError on a bad suite.
CheckOutcome run_check(const std::string& suite_path, const CheckOptions& options);
CheckOutcome run_check(const std::string& suite_path, bool update_baseline, unsigned threads);

}  // namespace canarysim
