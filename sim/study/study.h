// A study: N Monte Carlo runs of one scenario under one policy, and their summary.
//
// Start here: a study is run_study(load_scenario("scenarios/default.yaml"), options).
// Runs are spread over threads, but run i always draws from the streams of (seed, i), so
// the per-run results, and hence the summary, are bit-identical whatever the thread
// count. The same seed on the same scenario gives two policies the same traffic.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/model/run.h"

namespace canarysim {

class ConfigMap;

struct StudyOptions {
  uint64_t runs = 1000;  // Monte Carlo runs
  uint64_t seed = 1;     // the study's seed; run i uses streams of (seed, i)
  uint64_t first_run = 0;  // run indices first_run .. first_run + runs - 1 (to extend a study)
  unsigned threads = 0;  // 0: one per hardware thread
  // Called now and then from one thread with (runs done, runs in all). May be empty.
  std::function<void(uint64_t, uint64_t)> progress;
};

// Mean and quantiles of one outcome metric over the runs it applies to.
struct Stats {
  uint64_t count = 0;  // runs the metric applies to
  double mean = RunResult::kNaN, p50 = RunResult::kNaN, p90 = RunResult::kNaN,
         p99 = RunResult::kNaN;
};

// A rate over the runs with its 95% Wilson score interval.
struct Rate {
  uint64_t count = 0, of = 0;
  double rate = 0, low = 0, high = 0;
};
Rate wilson(uint64_t count, uint64_t of);

struct Summary {
  uint64_t runs = 0, promoted = 0, rolled_back = 0, unfinished = 0;
  // Rollbacks decided while no regression was active, over all runs.
  Rate false_rollback;
  // Promotions decided while a regression was active, over all runs.
  Rate missed_regression;
  // Rollbacks with a regression active decided before any data could show it, over all
  // runs: luck, not detection (they count in no detection time).
  Rate rolled_back_before_evidence;
  Stats detection_time_s;       // rolled back with a regression active, on evidence
  Stats time_to_mitigate_s;     // likewise
  Stats blast_radius_requests;  // runs in which a regression was active
  Stats blast_radius_users;     // likewise
  Stats rollout_duration_s;     // promoted runs
  Stats failed_requests;        // user requests that got an error, per run (all runs)
  // Of them, per run (all runs): the canary's, server timeouts, rejections at a full
  // queue; and KV-cache preemptions.
  Stats canary_failed_requests, timed_out_requests, rejected_requests, preemptions;
  // Infrastructure per run (all runs): cost at the versions' prices, and the canary's part.
  Stats cost;
  Stats canary_cost;
  Stats canary_replica_hours;
  Stats gpu_hours;  // both pools' replica-hours times GPUs per replica
  // Mean blast radius per traffic segment (over runs with a regression active), in the
  // order of traffic.segments.
  std::vector<double> segment_blast_requests_mean, segment_blast_users_mean;
  uint64_t events = 0;
  double wall_s = 0;          // wall-clock time of the study
  double events_per_s = 0;    // events / wall_s, all threads together
  unsigned threads = 0;
};

Summary summarize(const std::vector<RunResult>& runs);

struct Study {
  std::vector<RunResult> runs;  // in run order
  Summary summary;
  // Stopped by interrupt_flag(): `runs` holds the runs finished, 0 .. k-1 (a study of k).
  bool interrupted = false;
};

// Set by the CLI's Ctrl-C handler (or Python's KeyboardInterrupt): studies take no new
// runs, finish those running, and return them (Study::interrupted); commands that cannot
// use part of a study throw Interrupted. Cleared by whoever handles it.
std::atomic<bool>& interrupt_flag();
struct Interrupted : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The figures of a summary by name, as budgets, objectives and constraints name them:
//   false_rollback_rate, missed_regression_rate, rollback_rate,
//   rolled_back_before_evidence_rate (rates, in [0, 1]),
//   detection_time_*, time_to_mitigate_*, rollout_duration_* (seconds), failed_requests_*,
//   canary_failed_requests_*, timed_out_requests_*, rejected_requests_*, preemptions_*,
//   gpu_hours_*, blast_radius_requests_*, blast_radius_users_*, cost_*, canary_cost_*, where * is
//   mean, p50, p90 or p99. NaN where the figure does not apply (no detections).
struct SummaryMetric {
  enum class Unit { kRate, kSeconds, kNumber };
  std::string name;
  Unit unit;
  std::function<double(const Summary&)> value;
  // Rates: the upper end of the value's 95% Wilson interval; empty for other metrics.
  std::function<double(const Summary&)> upper;
};
const std::vector<SummaryMetric>& summary_metrics();

// The one table of a summary's figures by name, that summary_metrics(), the results
// store's summaries columns (and so `canarysim export` and Python's sweep frames) are
// made from: each rate X gives X_rate with X_rate_low and X_rate_high (its 95 % Wilson
// interval); each distribution Y gives Y_count, Y_mean, Y_p50, Y_p90, Y_p99 (seconds for
// times: detection_time_p90 is in seconds).
struct SummaryRate {
  const char* name;   // "false_rollback"
  const char* count;  // the column of its count, "false_rollbacks"
  Rate Summary::*rate;
};
struct SummaryStats {
  const char* name;  // "detection_time"
  Stats Summary::*stats;
  SummaryMetric::Unit unit;
};
const std::vector<SummaryRate>& summary_rates();
const std::vector<SummaryStats>& summary_stats();
// A summary as named numbers, from that table, in one order: runs, promoted, rolled_back,
// unfinished; each rate's count, X_rate, X_rate_low, X_rate_high; each distribution's
// Y_count, Y_mean, Y_p50, Y_p90, Y_p99 (NaN where none applies). `run --format json`,
// the results store, compare's JSON and Python's Study.summary all use these names.
std::vector<std::string> summary_field_names();
std::vector<double> summary_field_values(const Summary& summary);
// The name `name` stands for when it is a spelling of an earlier release
// (detection_time_s_p50, detection_time_p50_s, false_rollback_high, false_rollback_ci95_low,
// detection_time_s, ...): the current metric or field name, or "" when it is none. Old
// spellings are accepted, with a deprecation message, until the next release.
std::string renamed_metric(const std::string& name);
// nullptr when no metric has this name.
const SummaryMetric* find_summary_metric(const std::string& name);
// For the CLI's options that name metrics: `name`, or the current name of an old spelling
// (with a deprecation message on stderr), or an InputError naming `option`.
const SummaryMetric& summary_metric_option(const std::string& option, const std::string& name);
// For files that name metrics (tune's objective and constraints, check's budgets): the
// metric `name` given under `key` of `m`, or an InputError located there reading
// "unknown <what> 'name' (did you mean '...'?); expected <expected>".
const SummaryMetric& summary_metric_at(const ConfigMap& m, const std::string& key, const std::string& name,
                                       const std::string& what, const std::string& expected);
// The value under `key` of `m` in the metric's unit: a probability, a duration or a number.
double metric_value_at(const ConfigMap& m, const std::string& key, const SummaryMetric& metric);

// Runs in batches (100 runs, then doubling: in run order, so the runs are those of a
// study of that size) until the 95 % Wilson interval of the rate `metric` (a summary
// metric with a rate unit: false_rollback_rate, missed_regression_rate, ...) is narrower
// than `width`, or options.runs runs are done. Throws InputError naming the metric when it
// is not a rate. REQUIRES: scenario.policy is set.
Study run_study_to_precision(const Scenario& scenario, const StudyOptions& options, const std::string& metric,
                             double width);

// REQUIRES: scenario.policy is set.
Study run_study(const Scenario& scenario, const StudyOptions& options);

// FNV-1a hash of every field of every run, in run order: equal iff results are equal.
uint64_t results_hash(const std::vector<RunResult>& runs);

}  // namespace canarysim
