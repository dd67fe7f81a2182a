#include "sim/study/study.h"

#include "sim/study/limits.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iterator>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>

#include "sim/io/config.h"

namespace canarysim {

namespace {

// Mean and quantiles by linear interpolation between order statistics (numpy's default,
// so notebook users get the same numbers from the per-run rows).
Stats stats_of(std::vector<double> v) {
  Stats s;
  s.count = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  auto q = [&](double p) {
    const double h = p * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<size_t>(std::floor(h));
    const size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
  };
  s.p50 = q(0.5);
  s.p90 = q(0.9);
  s.p99 = q(0.99);
  return s;
}

}  // namespace

Rate wilson(uint64_t count, uint64_t of) {
  Rate r;
  r.count = count;
  r.of = of;
  if (of == 0) return r;
  constexpr double z = 1.959963984540054;
  const double n = static_cast<double>(of), p = static_cast<double>(count) / n;
  const double centre = (p + z * z / (2 * n)) / (1 + z * z / n);
  const double half = z / (1 + z * z / n) * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n));
  r.rate = p;
  // Exact at the ends, where rounding would leave 1e-18 above 0 or below 1.
  r.low = count == 0 ? 0.0 : std::max(0.0, centre - half);
  r.high = count == of ? 1.0 : std::min(1.0, centre + half);
  return r;
}

Summary summarize(const std::vector<RunResult>& runs) {
  Summary s;
  s.runs = runs.size();
  uint64_t false_rollbacks = 0, missed = 0, before_evidence = 0;
  std::vector<double> detection, mitigation, blast_requests, blast_users, duration, failed;
  std::vector<double> cost, canary_cost, canary_hours, gpu_hours;
  std::vector<double> canary_failed, timed_out, rejected, preemptions;
  uint64_t regressed_runs = 0;
  for (const RunResult& r : runs) {
    s.events += r.events;
    cost.push_back(r.baseline_cost + r.canary_cost);
    failed.push_back(static_cast<double>(r.failed_requests));
    canary_failed.push_back(static_cast<double>(r.canary_failed_requests));
    timed_out.push_back(static_cast<double>(r.timed_out_requests));
    rejected.push_back(static_cast<double>(r.rejected_requests));
    preemptions.push_back(static_cast<double>(r.preemptions));
    gpu_hours.push_back(r.gpu_hours);
    canary_cost.push_back(r.canary_cost);
    canary_hours.push_back(r.canary_replica_seconds / 3600);
    switch (r.outcome) {
      case Outcome::kPromoted:
        ++s.promoted;
        if (r.regression_active) ++missed;
        duration.push_back(r.rollout_duration_s);
        break;
      case Outcome::kRolledBack:
        ++s.rolled_back;
        if (!r.regression_active) ++false_rollbacks;
        if (r.regression_active) {
          // A rollback with a regression active has a detection time unless it came
          // before the evidence (runs read back from a results store carry only that).
          if (r.before_evidence || std::isnan(r.detection_time_s)) ++before_evidence;
          else detection.push_back(r.detection_time_s);
          mitigation.push_back(r.time_to_mitigate_s);
        }
        break;
      case Outcome::kUnfinished: ++s.unfinished; break;
    }
    if (r.regression_active) {
      blast_requests.push_back(static_cast<double>(r.blast_radius_requests));
      blast_users.push_back(static_cast<double>(r.blast_radius_users));
      ++regressed_runs;
      const size_t n = r.segment_blast_requests.size();
      s.segment_blast_requests_mean.resize(n, 0);
      s.segment_blast_users_mean.resize(n, 0);
      for (size_t k = 0; k < n; ++k) {
        s.segment_blast_requests_mean[k] += static_cast<double>(r.segment_blast_requests[k]);
        s.segment_blast_users_mean[k] += static_cast<double>(r.segment_blast_users[k]);
      }
    }
  }
  for (double& x : s.segment_blast_requests_mean) x /= static_cast<double>(regressed_runs);
  for (double& x : s.segment_blast_users_mean) x /= static_cast<double>(regressed_runs);
  s.false_rollback = wilson(false_rollbacks, s.runs);
  s.missed_regression = wilson(missed, s.runs);
  s.rolled_back_before_evidence = wilson(before_evidence, s.runs);
  s.detection_time_s = stats_of(std::move(detection));
  s.time_to_mitigate_s = stats_of(std::move(mitigation));
  s.blast_radius_requests = stats_of(std::move(blast_requests));
  s.blast_radius_users = stats_of(std::move(blast_users));
  s.rollout_duration_s = stats_of(std::move(duration));
  s.failed_requests = stats_of(std::move(failed));
  s.canary_failed_requests = stats_of(std::move(canary_failed));
  s.timed_out_requests = stats_of(std::move(timed_out));
  s.rejected_requests = stats_of(std::move(rejected));
  s.preemptions = stats_of(std::move(preemptions));
  s.gpu_hours = stats_of(std::move(gpu_hours));
  s.cost = stats_of(std::move(cost));
  s.canary_cost = stats_of(std::move(canary_cost));
  s.canary_replica_hours = stats_of(std::move(canary_hours));
  return s;
}

const std::vector<SummaryRate>& summary_rates() {
  static const std::vector<SummaryRate> rates = {
      {"false_rollback", "false_rollbacks", &Summary::false_rollback},
      {"missed_regression", "missed_regressions", &Summary::missed_regression},
      {"rolled_back_before_evidence", "rolled_back_before_evidence", &Summary::rolled_back_before_evidence}};
  return rates;
}

const std::vector<SummaryStats>& summary_stats() {
  using Unit = SummaryMetric::Unit;
  static const std::vector<SummaryStats> stats = {
      {"detection_time", &Summary::detection_time_s, Unit::kSeconds},
      {"time_to_mitigate", &Summary::time_to_mitigate_s, Unit::kSeconds},
      {"rollout_duration", &Summary::rollout_duration_s, Unit::kSeconds},
      {"failed_requests", &Summary::failed_requests, Unit::kNumber},
      {"canary_failed_requests", &Summary::canary_failed_requests, Unit::kNumber},
      {"timed_out_requests", &Summary::timed_out_requests, Unit::kNumber},
      {"rejected_requests", &Summary::rejected_requests, Unit::kNumber},
      {"preemptions", &Summary::preemptions, Unit::kNumber},
      {"gpu_hours", &Summary::gpu_hours, Unit::kNumber},
      {"blast_radius_requests", &Summary::blast_radius_requests, Unit::kNumber},
      {"blast_radius_users", &Summary::blast_radius_users, Unit::kNumber},
      {"cost", &Summary::cost, Unit::kNumber},
      {"canary_cost", &Summary::canary_cost, Unit::kNumber},
      {"canary_replica_hours", &Summary::canary_replica_hours, Unit::kNumber}};
  return stats;
}

const std::vector<SummaryMetric>& summary_metrics() {
  static const std::vector<SummaryMetric> metrics = [] {
    using Unit = SummaryMetric::Unit;
    std::vector<SummaryMetric> m;
    for (const SummaryRate& r : summary_rates())
      m.push_back({std::string(r.name) + "_rate", Unit::kRate, [f = r.rate](const Summary& s) { return (s.*f).rate; },
                   [f = r.rate](const Summary& s) { return (s.*f).high; }});
    m.push_back({"rollback_rate", Unit::kRate,
                 [](const Summary& s) { return s.runs ? static_cast<double>(s.rolled_back) / s.runs : RunResult::kNaN; },
                 [](const Summary& s) { return s.runs ? wilson(s.rolled_back, s.runs).high : RunResult::kNaN; }});
    const std::pair<const char*, double Stats::*> parts[] = {
        {"mean", &Stats::mean}, {"p50", &Stats::p50}, {"p90", &Stats::p90}, {"p99", &Stats::p99}};
    for (const SummaryStats& st : summary_stats())
      for (const auto& [part, member] : parts)
        m.push_back({std::string(st.name) + "_" + part, st.unit,
                     [field = st.stats, member = member](const Summary& s) { return (s.*field).*member; }, {}});
    return m;
  }();
  return metrics;
}

const SummaryMetric* find_summary_metric(const std::string& name) {
  for (const SummaryMetric& m : summary_metrics())
    if (m.name == name) return &m;
  return nullptr;
}

std::vector<std::string> summary_field_names() {
  std::vector<std::string> c = {"runs", "promoted", "rolled_back", "unfinished"};
  for (const SummaryRate& r : summary_rates()) {
    c.push_back(r.count);
    for (const char* part : {"_rate", "_rate_low", "_rate_high"}) c.push_back(std::string(r.name) + part);
  }
  for (const SummaryStats& s : summary_stats())
    for (const char* part : {"_count", "_mean", "_p50", "_p90", "_p99"}) c.push_back(std::string(s.name) + part);
  return c;
}

std::vector<double> summary_field_values(const Summary& s) {
  auto d = [](uint64_t x) { return static_cast<double>(x); };
  std::vector<double> v = {d(s.runs), d(s.promoted), d(s.rolled_back), d(s.unfinished)};
  for (const SummaryRate& r : summary_rates()) {
    const Rate& x = s.*(r.rate);
    for (double y : {d(x.count), x.rate, x.low, x.high}) v.push_back(y);
  }
  for (const SummaryStats& c : summary_stats()) {
    const Stats& st = s.*(c.stats);
    for (double x : {d(st.count), st.mean, st.p50, st.p90, st.p99}) v.push_back(x);
  }
  return v;
}

std::string renamed_metric(const std::string& name) {
  // What a current name can be: a summary metric, a summary field, a distribution's name.
  auto current = [](const std::string& x) {
    if (find_summary_metric(x)) return true;
    for (const SummaryStats& s : summary_stats())
      if (x == s.name) return true;
    const std::vector<std::string> fields = summary_field_names();
    return std::find(fields.begin(), fields.end(), x) != fields.end();
  };
  // An interval as a pair (false_rollback_rate_ci95) has two names now, not one.
  if (name.empty() || current(name) || (name.size() > 5 && name.compare(name.size() - 5, 5, "_ci95") == 0)) return "";
  // The earlier spellings differ in three ways only: a unit token `_s` (detection_time_s_p50,
  // detection_time_p50_s), `ci95` for an interval's ends, and a rate's family without
  // `_rate` (false_rollback_high, false_rollback).
  std::string x = name;
  auto drop = [&x](const std::string& token) {
    for (size_t at; (at = x.find(token)) != std::string::npos;) x.erase(at, token.size() - 1);
  };
  if (x.size() > 2 && x.compare(x.size() - 2, 2, "_s") == 0) x.erase(x.size() - 2);
  x += "_";
  drop("_s_");
  drop("_ci95_");
  x.pop_back();
  if (current(x)) return x;
  for (const SummaryRate& r : summary_rates()) {
    const std::string family = r.name;
    if (x.rfind(family, 0) != 0 || x.compare(family.size(), 5, "_rate") == 0) continue;
    const std::string y = family + "_rate" + x.substr(family.size());
    if (current(y)) return y;
  }
  return "";
}

namespace {
// The metric `name` names, 0.1's spellings accepted: then `deprecated` says how to write it
// now. nullptr when none, with `guess` the nearest name ("" if none is near).
const SummaryMetric* resolve_summary_metric(const std::string& name, std::string& deprecated, std::string& guess) {
  if (const SummaryMetric* metric = find_summary_metric(name)) return metric;
  const std::string renamed = renamed_metric(name);
  if (const SummaryMetric* metric = find_summary_metric(renamed)) {
    deprecated = "'" + name + "' is the spelling of canarysim 0.1; write '" + renamed + "' (the old one goes in 0.3)";
    return metric;
  }
  std::vector<std::string> names;
  for (const SummaryMetric& x : summary_metrics()) names.push_back(x.name);
  guess = nearest(name, names);
  return nullptr;
}

std::string did_you_mean(const std::string& guess) {
  return guess.empty() ? "" : " (did you mean '" + guess + "'?)";
}
}  // namespace

const SummaryMetric& summary_metric_option(const std::string& option, const std::string& name) {
  std::string deprecated, guess;
  const SummaryMetric* metric = resolve_summary_metric(name, deprecated, guess);
  if (!metric) throw InputError(option + ": unknown metric '" + name + "'" + did_you_mean(guess));
  if (!deprecated.empty()) std::fprintf(stderr, "warning: %s: %s\n", option.c_str(), deprecated.c_str());
  return *metric;
}

const SummaryMetric& summary_metric_at(const ConfigMap& m, const std::string& key, const std::string& name,
                                       const std::string& what, const std::string& expected) {
  std::string deprecated, guess;
  const SummaryMetric* metric = resolve_summary_metric(name, deprecated, guess);
  if (!metric) m.reject(key, "unknown " + what + " '" + name + "'" + did_you_mean(guess) + "; expected " + expected);
  if (!deprecated.empty()) m.warn(key, deprecated);
  return *metric;
}

double metric_value_at(const ConfigMap& m, const std::string& key, const SummaryMetric& metric) {
  switch (metric.unit) {
    case SummaryMetric::Unit::kRate: return m.probability(key);
    case SummaryMetric::Unit::kSeconds: return m.duration(key);
    case SummaryMetric::Unit::kNumber: break;
  }
  return m.number(key, -1e300, 1e300);
}

std::atomic<bool>& interrupt_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}

Study run_study(const Scenario& scenario, const StudyOptions& options) {
  check_policy_segments(scenario, *scenario.policy);
  const unsigned workers = static_cast<unsigned>(
      std::min<uint64_t>(clamp_threads(options.threads), std::max<uint64_t>(1, options.runs)));
  check_work(scenario, *scenario.policy, options.runs, workers);
  Study study;
  study.runs.resize(options.runs);
  std::atomic<uint64_t> next{0}, done{0};
  std::mutex progress_mutex;
  std::exception_ptr failure;
  std::mutex failure_mutex;

  const auto start = std::chrono::steady_clock::now();
  auto work = [&] {
    try {
      Simulator sim(scenario, *scenario.policy);
      // Every run taken is finished, so an interrupted study is runs 0 .. taken - 1.
      for (uint64_t i; !interrupt_flag().load(std::memory_order_relaxed) && (i = next.fetch_add(1)) < options.runs;) {
        study.runs[i] = sim.run(options.seed, options.first_run + i);
        const uint64_t finished = done.fetch_add(1) + 1;
        if (options.progress) {
          std::unique_lock lock(progress_mutex, std::try_to_lock);
          if (lock.owns_lock()) options.progress(finished, options.runs);
        }
      }
    } catch (...) {
      std::lock_guard lock(failure_mutex);
      if (!failure) failure = std::current_exception();
      next = options.runs;  // stop the other workers
    }
  };
  std::vector<std::thread> pool;
  start_threads(pool, workers - 1, work, [&] { next = options.runs; });
  work();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  const uint64_t taken = std::min<uint64_t>(next.load(), options.runs);
  if (taken < options.runs) {
    study.interrupted = true;
    study.runs.resize(taken);
  } else if (options.progress) {
    options.progress(options.runs, options.runs);
  }

  study.summary = summarize(study.runs);
  study.summary.threads = workers;
  study.summary.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  study.summary.events_per_s =
      study.summary.wall_s > 0 ? static_cast<double>(study.summary.events) / study.summary.wall_s
                               : 0;
  return study;
}

Study run_study_to_precision(const Scenario& scenario, const StudyOptions& options, const std::string& metric,
                             double width) {
  const SummaryMetric* m = find_summary_metric(metric);
  if (!m || m->unit != SummaryMetric::Unit::kRate) {
    std::string rates;
    for (const SummaryMetric& x : summary_metrics())
      if (x.unit == SummaryMetric::Unit::kRate) rates += (rates.empty() ? "" : ", ") + x.name;
    throw InputError("--precision-metric: '" + metric + "' is not a rate; expected one of " + rates);
  }
  Study all;
  double wall = 0;
  uint64_t target = std::min<uint64_t>(100, options.runs);
  for (;;) {
    StudyOptions o = options;
    o.first_run = options.first_run + all.runs.size();
    o.runs = target - all.runs.size();
    Study more = run_study(scenario, o);
    wall += more.summary.wall_s;
    all.summary.threads = more.summary.threads;
    all.runs.insert(all.runs.end(), std::make_move_iterator(more.runs.begin()), std::make_move_iterator(more.runs.end()));
    if (more.interrupted) {
      all.interrupted = true;
      break;
    }
    const Summary s = summarize(all.runs);
    const uint64_t count = static_cast<uint64_t>(std::llround(m->value(s) * static_cast<double>(s.runs)));
    const Rate r = wilson(count, s.runs);
    if (r.high - r.low < width || target >= options.runs) break;
    target = std::min<uint64_t>(2 * target, options.runs);
  }
  const unsigned threads = all.summary.threads;
  all.summary = summarize(all.runs);
  all.summary.threads = threads;
  all.summary.wall_s = wall;
  all.summary.events_per_s = wall > 0 ? static_cast<double>(all.summary.events) / wall : 0;
  return all;
}

uint64_t results_hash(const std::vector<RunResult>& runs) {
  uint64_t h = 0xcbf29ce484222325ULL;
  auto eat = [&h](const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ULL;
  };
  auto eat_double = [&](double x) {
    if (std::isnan(x)) x = std::numeric_limits<double>::quiet_NaN();  // one NaN pattern
    eat(&x, sizeof x);
  };
  for (const RunResult& r : runs) {
    eat(&r.run, sizeof r.run);
    eat(&r.outcome, sizeof r.outcome);
    eat(&r.regression_active, sizeof r.regression_active);
    eat_double(r.decision_time_s);
    eat_double(r.detection_time_s);
    eat_double(r.time_to_mitigate_s);
    eat(&r.blast_radius_requests, sizeof r.blast_radius_requests);
    eat(&r.blast_radius_users, sizeof r.blast_radius_users);
    eat_double(r.rollout_duration_s);
    eat(&r.requests, sizeof r.requests);
    eat(&r.canary_requests, sizeof r.canary_requests);
    eat(&r.events, sizeof r.events);
    eat(r.reason.data(), r.reason.size());
    eat_double(r.baseline_replica_seconds);
    eat_double(r.canary_replica_seconds);
    eat(&r.baseline_tokens, sizeof r.baseline_tokens);
    eat(&r.canary_tokens, sizeof r.canary_tokens);
    eat_double(r.baseline_cost);
    eat_double(r.canary_cost);
    for (uint64_t x : r.segment_blast_requests) eat(&x, sizeof x);
    for (uint64_t x : r.segment_blast_users) eat(&x, sizeof x);
  }
  return h;
}

}  // namespace canarysim
