// Tuning: search one policy's parameters for the best trade-off over a weighted mix of
// scenarios, by random search with successive halving on common random numbers.
//
//   name: tune stepped
//   policy: ../policies/presets/stepped.yaml
//   parameters:                      # paths into the policy; as a sweep's random fields
//     bake_time: {min: 2m, max: 15m, scale: log}
//     failure_limit: {min: 0, max: 3}
//     steps: {choices: [[1, 5, 25, 50], [5, 25, 50], [10, 50]]}
//   scenarios:                       # the mix: good releases and bad ones of several sizes
//     - {scenario: ../scenarios/aa-null.yaml, weight: 2}
//     - {scenario: ../scenarios/error-spike.yaml, weight: 1}
//     - {scenario: ../scenarios/error-spike.yaml, weight: 1,
//        set: {regressions[0].error_rate: 1%}}            # overrides of that scenario
//   objective: blast_radius_requests_mean              # minimised (see summary_metrics())
//   constraints: {false_rollback_rate: 1%, rollout_duration_p50: 2h}   # each at most
//   confidence: 95%                  # optional: a rate constraint must hold for the upper
//                                    # end of its 95% Wilson interval, not the estimate
//   search: {candidates: 27, min_runs: 40, max_runs: 360, eta: 3, seed: 1}
//   seed: 1                          # of the studies
//
// A metric of the mix is the weighted mean of the scenarios' values, over the scenarios
// where it applies (blast radius only where a regression starts). Candidate 0 is the
// policy as written, so the result shows what tuning gained. Every rung evaluates the
// survivors on the same runs 0..r-1 of every scenario and extends, never redraws: the
// ranking at each rung compares candidates on identical traffic.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/study/study.h"

namespace canarysim {

struct TuneCandidate {
  std::vector<std::string> values;             // per parameter, YAML text
  uint64_t runs = 0;                           // per scenario, evaluated so far
  std::vector<std::vector<RunResult>> results; // per scenario
  std::vector<double> metrics;                 // mixed, in TuneResult::metric_names order
  std::vector<double> uppers;                  // likewise, 95% upper bounds of rates (else NaN)
  bool feasible = false;
  double violation = 0;                        // sum of relative excesses over limits
};

struct TuneResult {
  std::string name;
  std::vector<std::string> parameters, scenario_labels;
  std::vector<double> weights;
  std::vector<std::string> metric_names;  // the objective, then the constraints' metrics
  std::vector<double> limits;             // per constraint (metric_names[1..])
  bool confident = false;                 // rate constraints judged on their upper bounds
  std::vector<TuneCandidate> candidates;
  std::vector<std::pair<uint64_t, uint64_t>> rungs;  // (candidates, runs) of each rung
  size_t best = 0;        // the top candidate of the last rung
  bool found = false;     // whether it meets every constraint
  std::vector<size_t> pareto;  // candidates on the front, by objective
  double wall_s = 0;
  uint64_t simulated_runs = 0;
  // What the candidates' studies doubt, grouped a scenario at a time (grouped_warnings(),
  // sim/model/scenario.h), "scenario LABEL: 3 of 40 candidates (the first: ...): ...".
  std::vector<std::string> warnings;
};

struct TuneOptions {
  unsigned threads = 0;
  bool validate_only = false;  // check the file and build every candidate; run nothing
  std::function<void(uint64_t, uint64_t)> progress;  // (runs done, runs planned)
};

// Throws InputError naming file, line, key and what was expected.
TuneResult run_tune(const std::string& path, const TuneOptions& options);
// The keys of a tuning file's top level.
const std::vector<std::string>& tune_keys();

// The report for people: the search, the chosen parameters with outcome intervals per
// scenario, and the Pareto front.
std::string tune_report(const TuneResult& result);
// One row per candidate (or per candidate on the Pareto front, by objective): index, runs,
// feasible, pareto, chosen (0 or 1), the parameters as written, the mixed metrics, and
// the 95% upper bounds of the rate metrics (`<metric>_upper95`).
std::string tune_csv(const TuneResult& result, bool pareto_only);
// Writes DIR/candidates.csv, DIR/pareto.csv and DIR/pareto.svg.
void write_tune_files(const TuneResult& result, const std::string& dir);

}  // namespace canarysim
