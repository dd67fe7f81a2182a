// Power: for a policy and a kind of regression, the smallest regression it catches in
// (say) 90% of runs, and how detection time falls as the regression grows.
//
//   name: stepped against error spikes
//   scenario: ../scenarios/error-spike.yaml
//   policy: ../policies/presets/stepped.yaml     # default: the scenario's
//   field: regressions[0].error_rate             # the size: a path into the scenario
//   sizes: [0.5%, 1%, 1.5%, 2%, 3%, 5%]          # ascending
//   target: 90%                                  # share of runs that must catch it
//   runs: 300                                    # per size
//   seed: 1
//   refine: 4                                    # bisection steps past the grid
//
// A run catches the regression when the policy rolls back after its onset. The runs of
// every size share their seeds, so the curve is smooth in the size: a larger regression
// is judged on the same traffic. After the grid, `refine` bisection steps between the
// largest size below the target and the smallest at or above it narrow the threshold.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/study/study.h"

namespace canarysim {

struct PowerPoint {
  std::string size;   // as written
  double value = 0;   // as a number (fractions for percentages, seconds for durations)
  Summary summary;
  Rate caught;        // runs rolled back after the onset
};

struct PowerResult {
  std::string name, field;
  double target = 0.9;
  uint64_t runs = 0, seed = 1;
  std::vector<PowerPoint> points;  // by size, grid and refinement together
  // The smallest size caught in at least `target` of the runs; -1 when none is.
  int threshold = -1;
  double wall_s = 0;
  // What the sizes' studies doubt, grouped (grouped_warnings(), sim/model/scenario.h).
  std::vector<std::string> warnings;
};

struct PowerOptions {
  unsigned threads = 0;
  bool validate_only = false;  // check the file and build every size's scenario; run nothing
  std::function<void(uint64_t, uint64_t)> progress;  // (sizes done, sizes planned)
};

// Throws InputError naming file, line, key and what was expected.
PowerResult run_power(const std::string& path, const PowerOptions& options);
// The keys of a power file's top level.
const std::vector<std::string>& power_keys();
std::string power_report(const PowerResult& result);
// One row per size: size (as written), value, runs, caught with its interval, false
// rollback rate, detection time p50 and p90, mean blast radius, threshold (1 on its row).
std::string power_csv(const PowerResult& result);
// Writes DIR/power.csv and DIR/power.svg.
void write_power_files(const PowerResult& result, const std::string& dir);

}  // namespace canarysim
