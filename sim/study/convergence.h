// Scaled fidelity's check on itself: are the study's figures converged in the sample?
//
// A scaled study simulates 1 user in w (sim/model/fidelity.h). Where that holds, simulating
// more users changes nothing but noise; where it does not (a pool of a few replicas at
// scale, a judgement whose threshold lies within the w-fold noise of its statistic), the
// figures move as w shrinks. So after a scaled study, the first `runs` of its runs are run
// again with 4 times the replicas (1 user in about w/4; exact when that leaves w' = 1) and
// the figures a canary study turns on are compared between the two:
//   shares of runs rolled back and promoted   moved: |difference| > "3 SE" and > 5 points
//   means of detection time, blast radius in  moved: |difference| > "3 SE" (Welch) and > 2 %
//   requests and users, failed requests,      of the larger value
//   rollout duration and cost
// SE is the difference's standard error from the two samples of runs. "3 SE" is a normal
// tail of 0.27 %; a few runs estimate their noise poorly, so the limit is the same tail of
// Student's t at the samples' degrees of freedom (Welch's for means): 3.4 SE for 20 runs
// checked against a study of many, 6.6 for 3 runs a side, 236 for 1 (nothing is told
// apart), so one comparison of a converged study crosses it about once in 370 whatever
// the runs. The figures move together (blast radius, failures and detection are one effect),
// so a converged study is called moved in about two checks in a hundred. A miss costs more
// than a false alarm: a scaled figure off by a fifth, reported with confidence, where a
// false alarm costs one study at more replicas. The floors keep differences no decision
// turns on (a 0.5 % cost bias of replica rounding) quiet. 20 runs resolve a move of about
// 3.4 SE: an agreement says which figure came closest, in standard errors.
// A move is a warning, never a silent correction: the study's figures are reported as
// simulated, with the command that simulates more of the fleet.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace canarysim {

struct Scenario;
struct Study;
struct StudyOptions;

struct Convergence {
  static constexpr double kSe = 3;             // a difference beyond this many standard errors moved
  static constexpr double kRatePoints = 0.05;  // and a share of runs by more than 5 points
  static constexpr double kMeanShare = 0.02;   // or a mean by more than 2 % of the larger value
  uint32_t sample = 1;        // the study's w
  uint32_t finer_sample = 1;  // the check's w' (1: exact)
  uint32_t finer_replicas = 0;  // fidelity.replicas asked for the check (4x the study's)
  uint64_t runs = 0, finer_runs = 0;
  double wall_s = 0;  // the check's own runs
  bool interrupted = false;  // stopped by interrupt_flag(): no figures, nothing said
  struct Figure {
    std::string name;        // "detection time mean"
    bool rate = false;       // a share of runs (else a mean)
    bool seconds = false;    // a time
    double value = 0, finer = 0;  // at w and at w'
    double se = 0;           // the difference's standard error
    double sigmas = kSe;     // the standard errors it may differ by: kSe as Student's t at its runs
    double limit = 0;        // the difference beyond which it moved (sigmas x SE, or the floor)
    bool moved = false;
  };
  std::vector<Figure> figures;  // those that apply in both (a mean needs 2 runs in each)

  bool moved() const;
  // In words: convergence_text() in sim/io/report.h.
};

// Whether a study of `scenario` gets the check: scaled fidelity with fidelity.check > 0,
// a sample (w > 1) actually simulated, and at least 2 runs finished, not interrupted.
bool wants_convergence_check(const Scenario& scenario, const Study& study);

// Runs the check: `runs` (at most the study's) of the study's runs at 4x the replicas, with
// the study's seed, run indices and threads; progress through options.progress.
// REQUIRES: the scenario's fidelity is scaled and the study's sample (shrink()) > 1.
// Returns with `interrupted` set, and no figures, when interrupt_flag() stops its runs.
Convergence check_convergence(const Scenario& scenario, const Study& study, const StudyOptions& options,
                              uint64_t runs);

}  // namespace canarysim
