// canarysim: the command line.
//   canarysim run SCENARIO.yaml [--policy FILE] [--runs N] [--seed S] [--threads T]
//                               [--format table|json|csv|markdown] [--out FILE] [--report PAGE.html]
//                               [--fidelity exact|scaled[:K]] [--fidelity-check N] [--precision W [--precision-metric RATE]]
//   canarysim validate FILE...
//   canarysim timeline SCENARIO.yaml [--run K] [--seed S] [--policy FILE] [--format table|csv] [--fidelity F]
//   canarysim compare SCENARIO.yaml POLICY.yaml POLICY.yaml... [--runs N] [--seed S]
//                               [--format table|json|csv|markdown] [--out FILE] [--report PAGE.html] [--fidelity F] [--fidelity-check N]
//   canarysim import argo|flagger|kayenta|aws FILE... [--name N] [--latency L] [--strict]
//   canarysim export-policy argo|flagger POLICY.yaml [--out DIR] [--metrics MAPPING.yaml]
//   canarysim check SUITE.yaml [--update-baseline] [--runs N|auto] [--format table|markdown] [--report PAGE.html]
//   canarysim sweep SWEEP.yaml [--db FILE] [--resume] [--shard K/N] [--threads T]
//   canarysim merge OUT.db SHARD.db...
//   canarysim export DB [--table summaries|runs|points] [--format csv|json] [--out FILE]
//   canarysim tune TUNE.yaml [--out DIR] [--threads T]
//   canarysim power POWER.yaml [--out DIR] [--threads T]     (tune and power write DIR/report.html too)
//   canarysim report STORE.db|TUNE_DIR|POWER_DIR [--out PAGE.html]
//   canarysim calibrate PROFILE.csv [--model M] [--hardware H] [--tensor-parallel N] [--out F]
// Long commands (run, compare, check, sweep, tune, power) say their work up front, show
// progress on a terminal (with --progress: a line every 5 s elsewhere; --quiet: none),
// and stop cleanly on Ctrl-C (exit 130): run prints the runs finished, sweep keeps them.
// Exit codes: 0 done, 2 bad input (the message names file, line, key and what was
// expected), 1 internal error, 3 a check's budget breached or a figure worse than the
// baseline's, or tune found no candidate that meets its constraints, 130 interrupted.
#include <unistd.h>

#include <csignal>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <tuple>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>

#include "policies/policy.h"
#include "policies/interop/export.h"
#include "policies/interop/import.h"
#include "sim/io/fit.h"
#include "sim/io/page.h"
#include "sim/io/progress.h"
#include "sim/model/calibrate.h"
#include "sim/model/capacity.h"
#include "sim/study/check.h"
#include "sim/study/compare.h"
#include "sim/study/convergence.h"
#include "sim/io/config.h"
#include "sim/study/limits.h"
#include "sim/io/report.h"
#include "sim/io/schema.h"
#include "sim/model/scenario.h"
#include "sim/study/store.h"
#include "sim/study/study.h"
#include "sim/study/sweep.h"
#include "sim/study/power.h"
#include "sim/study/tune.h"

namespace {

using namespace canarysim;

constexpr int kExitBadInput = 2;
constexpr int kExitInternal = 1;
constexpr int kExitCheckFailed = 3;  // a check's budget or baseline breached; tune found nothing
constexpr int kExitInterrupted = 130;  // Ctrl-C (128 + SIGINT), as shells report it

// `text` as a whole number that fits in 64 bits, all of it; nullopt otherwise. CLI11's
// conversion and sscanf would wrap -1 to 2^64 - 1 and clamp 10^23 to it, so two different
// seeds would silently be one.
std::optional<uint64_t> whole64(std::string_view text) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}
const CLI::Validator kWhole64(
    [](std::string& text) -> std::string {
      return whole64(text) ? "" : "expected a whole number from 0 to 18446744073709551615, got '" + text + "'";
    },
    "WHOLE");

struct RunArgs {
  std::string scenario, policy, format = "table", out, precision_metric = "false_rollback_rate", fidelity, report;
  uint64_t runs = 1000, seed = 1;
  int64_t fidelity_check = -1;  // runs of a scaled study's convergence check; < 0: the scenario's
  double precision = 0;  // > 0: stop once the metric's 95 % interval is narrower
  unsigned threads = 0;
  bool quiet = false, progress = false;
  bool runs_given = false;
};

// Workers a study of `runs` will use for --threads `requested`.
unsigned workers_for(unsigned requested, uint64_t runs) {
  return static_cast<unsigned>(std::min<uint64_t>(clamp_threads(requested), std::max<uint64_t>(1, runs)));
}

// --threads as given, clamped (with a note on stderr) when beyond what helps.
unsigned threads_option(unsigned requested) {
  std::string note;
  const unsigned n = clamp_threads(requested, &note);
  if (!note.empty()) std::cerr << "note: " << note << "\n";
  return requested == 0 ? 0 : n;
}

// --fidelity, when given, replaces the scenario's; a scaled study says what it simulates
// (and what it doubts) on stderr, and is refused here, before any run, where it cannot hold.
void apply_fidelity(Scenario& scenario, const std::string& option,
                    const std::vector<std::shared_ptr<const PolicyConfig>>& policies) {
  if (!option.empty()) scenario.fidelity = Fidelity::from_option(option);
  if (!scenario.fidelity.scaled) return;
  std::vector<std::string> warnings;
  Scenario shrunk;
  for (const auto& p : policies) shrunk = shrink(scenario, *p, p == policies.front() ? &warnings : nullptr);
  if (shrunk.fidelity.sample == 1) {
    std::cerr << "fidelity: scaled asked, simulated exact (the warnings below say why)\n";
    for (const std::string& w : warnings) std::cerr << "warning: " << scenario.file << ": " << w << "\n";
    return;
  }
  std::cerr << "fidelity: scaled, 1 user in " << shrunk.fidelity.sample << ": pools";
  for (const VersionSpec* v : {&shrunk.baseline, &shrunk.canary})
    if (v->serving.batched)
      std::cerr << " " << (v == &shrunk.baseline ? "baseline " : "canary ") << v->serving.batching.fleet() << " of "
                << (v == &shrunk.baseline ? scenario.baseline : scenario.canary).serving.batching.fleet();
  std::cerr << " replicas for all traffic; counts scaled back by " << shrunk.fidelity.sample
            << " (results/fidelity-modes.md)\n";
  for (const std::string& w : warnings) std::cerr << "warning: " << scenario.file << ": " << w << "\n";
}

// --fidelity-check N, when given, replaces the scenario's fidelity.check.
void apply_fidelity_check(Scenario& scenario, int64_t runs) {
  if (runs >= 0) scenario.fidelity.check_runs = static_cast<uint32_t>(runs);
}

// A scaled study's convergence check (sim/study/convergence.h), when the scenario asks for
// one and the study simulated a sample: its runs, with progress, then its line on stderr
// (a warning when the figures moved) unless `said_elsewhere` (the output carries it to
// the same place). Interrupted, it says so and its figures are not reported: the study's
// own results stand, and the command exits as interrupted.
std::optional<Convergence> check_scaled(const Scenario& scenario, const Study& study, StudyOptions options,
                                        bool quiet, bool plain, bool said_elsewhere, const std::string& label = "") {
  if (!wants_convergence_check(scenario, study)) return std::nullopt;
  const uint64_t runs = std::min<uint64_t>(scenario.fidelity.check_runs, study.runs.size());
  Progress progress(quiet, plain, workers_for(options.threads, runs));
  progress.note("fidelity check" + label + ": " + std::to_string(runs) +
                " of the runs again at 4x the replicas (--fidelity-check 0: none)");
  options.progress = progress.callback();
  Convergence c = check_convergence(scenario, study, options, runs);
  if (c.interrupted) {
    std::cerr << "fidelity check" << label << ": interrupted; the study's figures are unchecked\n";
    return c;
  }
  if (!said_elsewhere)
    std::cerr << (c.moved() ? "warning: " : "") << "fidelity check" << label << ": " << convergence_text(c) << "\n";
  return c;
}

// The scenario with its policy, or the one --policy names instead.
Scenario scenario_with_policy(const std::string& scenario_file, const std::string& policy_file,
                              const std::string& fidelity = "") {
  Scenario scenario = load_scenario(scenario_file);
  if (!policy_file.empty()) scenario.policy = load_policy_file(policy_file);
  if (!scenario.policy) {
    throw InputError(scenario_file + ": policy: missing; expected a policy in the scenario or --policy FILE");
  }
  check_policy_segments(scenario, *scenario.policy);
  apply_fidelity(scenario, fidelity, {scenario.policy});
  // Each batched pool's load at peak, on stderr; then what the study doubts (a pool that
  // cannot carry its peak, judgements the traffic leaves too little evidence for, ...).
  for (const CapacityNote& n : capacity_notes(scenario, scenario.policy.get()))
    if (n.warning.empty()) std::cerr << "capacity: " << n.line << "\n";
  for (const std::string& w : study_warnings(scenario, *scenario.policy))
    std::cerr << "warning: " << scenario_file << ": " << w << "\n";
  return scenario;
}

// Standard output, or the file --out names (opened into `file`).
std::ostream& output(const std::string& path, std::ofstream& file) {
  if (path.empty()) return std::cout;
  file.open(path);
  if (!file) throw InputError(path + ": cannot be written");
  return file;
}

// The study's HTML page: its figures of a typical run (median decision time) and the
// worst (largest blast radius, or latest decision), simulated again with their timelines.
void write_report(const std::string& path, const Scenario& scenario, const Study& study, const ReportContext& context,
                  uint64_t seed) {
  PageInputs page;
  page.scenario_text = scenario.source;
  page.policy_text = scenario.policy->source;
  page.fidelity = scenario.fidelity.scaled ? shrink(scenario, *scenario.policy).fidelity.describe() : "exact";
  if (!study.runs.empty()) {
    std::vector<size_t> order(study.runs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    auto decided = [&](size_t i) {
      const double t = study.runs[i].decision_time_s;
      return std::isnan(t) ? scenario.horizon_s : t;
    };
    std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return decided(x) < decided(y); });
    const RunResult& typical = study.runs[order[order.size() / 2]];
    const RunResult* worst = &study.runs.front();
    for (const RunResult& r : study.runs)
      if (r.blast_radius_requests > worst->blast_radius_requests ||
          (r.blast_radius_requests == worst->blast_radius_requests && decided(r.run - study.runs.front().run) >
                                                                          decided(worst->run - study.runs.front().run)))
        worst = &r;
    page.worst_why = worst->blast_radius_requests > 0 ? "largest blast radius" : "latest decision";
    Simulator sim(scenario, *scenario.policy);
    page.typical_run = typical.run;
    sim.run(seed, typical.run, &page.typical);
    page.worst_run = worst->run;
    sim.run(seed, worst->run, &page.worst);
  }
  std::ofstream file;
  write_html(output(path, file), study, context, page);
  std::cerr << "wrote " << path << "\n";
}

int run_command(const RunArgs& a) {
  Scenario scenario = scenario_with_policy(a.scenario, a.policy, a.fidelity);
  apply_fidelity_check(scenario, a.fidelity_check);
  std::ofstream file;
  std::ostream& out = output(a.out, file);

  StudyOptions options;
  options.runs = a.runs;
  options.seed = a.seed;
  options.threads = threads_option(a.threads);
  if (a.precision > 0) options.runs = a.runs_given ? a.runs : 100000;  // the cap
  std::string metric = a.precision_metric;  // an old spelling is taken, with a deprecation message
  if (a.precision > 0 && !find_summary_metric(metric) && !renamed_metric(metric).empty())
    metric = summary_metric_option("--precision-metric", metric).name;
  Progress progress(a.quiet, a.progress, workers_for(options.threads, options.runs));
  progress.note(work_line(scenario, *scenario.policy, options.runs));
  options.progress = progress.callback();
  const Study study = a.precision > 0 ? run_study_to_precision(scenario, options, metric, a.precision)
                                      : run_study(scenario, options);
  if (study.interrupted) {
    if (study.runs.empty()) throw Interrupted("interrupted before any run finished");
    std::fprintf(stderr, "interrupted: %zu of %llu runs finished; what follows is the study of runs 0 to %zu\n",
                 study.runs.size(), static_cast<unsigned long long>(options.runs), study.runs.size() - 1);
  }
  if (a.precision > 0) {
    const SummaryMetric* m = find_summary_metric(metric);
    const Rate r = wilson(static_cast<uint64_t>(std::llround(m->value(study.summary) * study.summary.runs)), study.summary.runs);
    std::fprintf(stderr, "precision: %s %.4f [%.4f, %.4f] (width %.4f %s %.4f) after %llu runs%s\n",
                 metric.c_str(), m->value(study.summary), r.low, r.high, r.high - r.low,
                 r.high - r.low < a.precision ? "<" : ">=", a.precision,
                 static_cast<unsigned long long>(study.summary.runs),
                 r.high - r.low < a.precision ? "" : " (the cap: --runs)");
  }

  const bool said_in_output = a.out.empty() && (a.format == "table" || a.format == "markdown");
  const std::optional<Convergence> convergence =
      check_scaled(scenario, study, options, a.quiet, a.progress, said_in_output);
  ReportContext context{scenario.name, scenario.policy->kind(), a.seed, {}};
  for (const Segment& seg : scenario.traffic.segments) context.segments.push_back(seg.name);
  if (convergence && !convergence->interrupted) context.convergence = &*convergence;
  if (a.format == "json") write_json(out, study, context, /*with_runs=*/true);
  else if (a.format == "csv") write_csv(out, study);
  else if (a.format == "markdown") write_markdown(out, study, context);
  else write_table(out, study, context);
  if (!a.report.empty()) write_report(a.report, scenario, study, context, a.seed);
  return study.interrupted || (convergence && convergence->interrupted) ? kExitInterrupted : 0;
}

// Which kind of file `m` is, by the keys only that kind has; a file with none of them is
// a scenario unless its keys are another kind's (then the message lists that kind's keys
// and the one that tells it apart, not a scenario's).
void check_file_kind(const ConfigMap& m, const std::string& path) {
  struct Kind {
    const char* name;
    std::vector<std::string> markers;
    const std::vector<std::string>& keys;
  };
  static const std::vector<std::string> policy_top = {"kind"};
  const Kind kinds[] = {{"check suite", {"cases"}, check_suite_keys()},
                        {"sweep", {"grid", "points", "random"}, sweep_keys()},
                        {"tuning file", {"parameters"}, tune_keys()},
                        {"power study", {"sizes"}, power_keys()}};
  const std::vector<std::string> keys = m.keys();
  auto known = [&](const std::vector<std::string>& allowed) {
    size_t n = 0;
    for (const std::string& k : keys) n += std::find(allowed.begin(), allowed.end(), k) != allowed.end();
    return n;
  };
  const size_t as_scenario = known(scenario_keys());
  if (as_scenario == keys.size()) return;  // a scenario's keys only
  for (const Kind& k : kinds) {
    if (known(k.keys) <= as_scenario || known(k.keys) < keys.size()) continue;
    std::string markers, list;
    for (size_t i = 0; i < k.markers.size(); ++i)
      markers += (i == 0 ? "`" : i + 1 == k.markers.size() ? "` or `" : "`, `") + k.markers[i];
    for (const std::string& x : k.keys) list += (list.empty() ? "" : ", ") + x;
    throw InputError(path + ": reads like a " + k.name + " but has no " + markers + "`; a " + k.name +
                     " has the keys: " + list);
  }
}

// Scenario and policy files, and the study files: sweeps, tuning, power.
std::string validate_any(const std::string& path) {
  const ConfigMap m = ConfigMap::parse_file(path);
  if (!m.has("kind") && !m.has("grid") && !m.has("points") && !m.has("random") && !m.has("parameters") &&
      !m.has("sizes") && !m.has("cases"))
    check_file_kind(m, path);
  if (m.has("grid") || m.has("points") || m.has("random")) {
    const Sweep sweep = load_sweep(path);
    return path + ": valid sweep '" + sweep.manifest.name + "', " + std::to_string(sweep.points.size()) + " points x " +
           std::to_string(sweep.manifest.runs) + " runs";
  }
  if (m.has("parameters")) {
    TuneOptions o;
    o.validate_only = true;
    const TuneResult t = run_tune(path, o);
    std::string text = path + ": valid tuning '" + t.name + "', " + std::to_string(t.candidates.size()) +
                       " candidates over " + std::to_string(t.scenario_labels.size()) + " scenarios";
    for (const std::string& w : t.warnings) text += "\nwarning: " + path + ": " + w;
    return text;
  }
  if (m.has("sizes")) {
    PowerOptions o;
    o.validate_only = true;
    const PowerResult p = run_power(path, o);
    std::string text = path + ": valid power study '" + p.name + "' of " + p.field;
    for (const std::string& w : p.warnings) text += "\nwarning: " + path + ": " + w;
    return text;
  }
  if (m.has("cases")) return load_check_suite(path);
  return validate_file(path);
}

int validate_command(const std::vector<std::string>& files) {
  for (const std::string& f : files) std::cout << validate_any(f) << "\n";
  return 0;
}

struct TimelineArgs {
  std::string scenario, policy, format = "table", out, fidelity;
  uint64_t run = 0, seed = 1;
};

int timeline_command(const TimelineArgs& a) {
  const Scenario scenario = scenario_with_policy(a.scenario, a.policy, a.fidelity);
  std::ofstream file;
  std::ostream& out = output(a.out, file);
  check_work(scenario, *scenario.policy, 1, 1);
  Simulator sim(scenario, *scenario.policy);
  std::vector<TracePoint> trace;
  const RunResult r = sim.run(a.seed, a.run, &trace);
  if (a.format == "csv") {
    write_timeline_csv(out, trace);
  } else {
    write_timeline_table(out, trace);
    out << "\nrun " << a.run << " of seed " << a.seed << ": " << outcome_name(r.outcome) << ", "
        << r.requests << " requests, " << r.canary_requests << " on the canary\n";
  }
  return 0;
}

struct ImportArgs {
  std::string tool, out;
  std::vector<std::string> inputs;
  ImportOptions options;
};

int import_command(const ImportArgs& a) {
  Imported imported;
  try {
    imported = import_policy(a.tool, a.inputs, a.options);
  } catch (const ImportRefused& refused) {
    for (const std::string& w : refused.warnings) std::cerr << "warning: " << w << "\n";
    throw;
  }
  for (const std::string& w : imported.warnings) std::cerr << "warning: " << w << "\n";
  for (const std::string& r : imported.rules) std::cerr << r << "\n";
  // The result must load: a file the importer writes is a file canarysim accepts.
  parse_policy(ConfigMap::parse_string(imported.yaml, "the policy imported from " + a.inputs.front()));
  std::ofstream file;
  output(a.out, file) << imported.yaml;
  return 0;
}

struct CompareArgs {
  std::string scenario, format = "table", out, fidelity, report;
  std::vector<std::string> policies;
  uint64_t runs = 1000, seed = 1;
  int64_t fidelity_check = -1;
  unsigned threads = 0;
  bool quiet = false, progress = false;
};

int compare_command(const CompareArgs& a) {
  Scenario scenario = load_scenario(a.scenario);
  std::vector<std::shared_ptr<const PolicyConfig>> configs;
  std::vector<std::string> names;
  for (const std::string& p : a.policies) {
    configs.push_back(load_policy_file(p));
    names.push_back(p);
  }
  apply_fidelity(scenario, a.fidelity, configs);
  apply_fidelity_check(scenario, a.fidelity_check);
  // What each policy's study doubts: a line every policy shares once, the others with
  // the policy they are about.
  std::vector<std::vector<std::string>> doubts;
  for (const auto& p : configs) doubts.push_back(study_warnings(scenario, *p));
  for (const std::string& w : merge_warnings(doubts, names)) std::cerr << "warning: " << a.scenario << ": " << w << "\n";
  StudyOptions o;
  o.runs = a.runs;
  o.seed = a.seed;
  o.threads = threads_option(a.threads);
  Progress progress(a.quiet, a.progress, workers_for(o.threads, a.runs));
  progress.note(work_line(scenario, *configs.front(), a.runs) + ", for each of " + std::to_string(configs.size()) +
                " policies");
  o.progress = progress.callback();
  const Comparison c = compare_policies(scenario, configs, names, o);
  bool interrupted = false;  // during a fidelity check: the comparison is written, unchecked
  for (size_t k = 0; k < configs.size() && !interrupted; ++k) {
    Scenario each = scenario;
    each.policy = configs[k];
    const std::optional<Convergence> check = check_scaled(each, c.studies[k], o, a.quiet, a.progress, false,
                                                          " (" + names[k] + ")");
    interrupted = check && check->interrupted;
  }
  ReportContext ctx;
  ctx.scenario = scenario.name;
  ctx.seed = a.seed;
  std::ofstream file;
  write_comparison(output(a.out, file), c, ctx, a.runs, a.format);
  if (!a.report.empty()) {
    std::vector<std::string> texts;
    for (const auto& p : configs) texts.push_back(p->source);
    std::ofstream page;
    write_comparison_html(output(a.report, page), c, ctx, scenario.source, texts);
    std::cerr << "wrote " << a.report << "\n";
  }
  return interrupted ? kExitInterrupted : 0;
}


struct SweepArgs {
  std::string sweep, db, shard = "1/1";
  unsigned threads = 0;
  bool resume = false, quiet = false, progress = false;
};

// "K/N" -> (K, N).
std::pair<uint64_t, uint64_t> parse_shard(const std::string& text) {
  const size_t slash = text.find('/');
  const auto k = whole64(std::string_view(text).substr(0, slash));
  const auto n = slash == std::string::npos ? std::nullopt : whole64(std::string_view(text).substr(slash + 1));
  if (!k || !n || *k < 1 || *k > *n) throw InputError("--shard: expected K/N with 1 <= K <= N, like 2/8, got '" + text + "'");
  return {*k, *n};
}

std::string default_db(const std::string& sweep, uint64_t k, uint64_t n) {
  const std::string stem = std::filesystem::path(sweep).stem().string();
  return n == 1 ? stem + ".db" : stem + ".shard-" + std::to_string(k) + "-of-" + std::to_string(n) + ".db";
}

int sweep_command(const SweepArgs& a, const std::string& command_line) {
  const Sweep sweep = load_sweep(a.sweep);
  SweepOptions o;
  std::tie(o.shard, o.shards) = parse_shard(a.shard);
  o.threads = threads_option(a.threads);
  o.resume = a.resume;
  o.command_line = command_line;
  Progress progress(a.quiet, a.progress, workers_for(o.threads, sweep.points.size() * sweep.manifest.runs));
  o.progress = progress.callback();
  const std::string db = a.db.empty() ? default_db(a.sweep, o.shard, o.shards) : a.db;
  if (!a.quiet)
    std::fprintf(stderr, "sweep %s: %zu points x %llu runs, shard %llu/%llu -> %s\n", sweep.manifest.name.c_str(),
                 sweep.points.size(), static_cast<unsigned long long>(sweep.manifest.runs),
                 static_cast<unsigned long long>(o.shard), static_cast<unsigned long long>(o.shards), db.c_str());
  for (const std::string& w : sweep_warnings(sweep)) std::cerr << "warning: " << a.sweep << ": " << w << "\n";
  const SweepReport r = run_sweep(sweep, db, o);
  std::printf("%llu runs of shard %llu/%llu: %llu already stored, %llu run now in %.1f s (%s runs/s)\n",
              static_cast<unsigned long long>(r.share), static_cast<unsigned long long>(o.shard),
              static_cast<unsigned long long>(o.shards), static_cast<unsigned long long>(r.present),
              static_cast<unsigned long long>(r.ran), r.wall_s, rough_rate(r.wall_s > 0 ? r.ran / r.wall_s : 0.0).c_str());
  if (r.summaries.empty()) {
    std::printf("results in %s; merge the shards with `canarysim merge OUT.db SHARD.db...`\n", db.c_str());
    return 0;
  }
  int width = 5;
  for (const SweepPoint& p : sweep.points) width = std::max(width, static_cast<int>(p.label.size()));
  std::printf("\n%-*s %9s %9s %11s %11s %12s %11s\n", width, "point", "rollbacks", "false", "detect p50",
              "detect p90", "blast mean", "rollout p50");
  for (size_t p = 0; p < r.summaries.size(); ++p) {
    const Summary& s = r.summaries[p];
    auto t = [](double x) { return std::isnan(x) ? std::string("-") : format_duration(std::round(x)); };
    std::printf("%-*s %8.1f%% %8.2f%% %11s %11s %12.0f %11s\n", width, sweep.points[p].label.c_str(),
                100.0 * s.rolled_back / s.runs, 100 * s.false_rollback.rate, t(s.detection_time_s.p50).c_str(),
                t(s.detection_time_s.p90).c_str(), s.blast_radius_requests.mean, t(s.rollout_duration_s.p50).c_str());
  }
  std::printf("\nresults in %s (canarysim export %s --format csv)\n", db.c_str(), db.c_str());
  return 0;
}

struct ExportPolicyArgs {
  std::string tool, policy, out, metrics, name = "llm-serving";
  bool print_metrics = false;
};

int export_policy_command(const ExportPolicyArgs& a) {
  if (a.print_metrics) {
    std::cout << default_metric_mapping();
    return 0;
  }
  if (a.tool.empty() || a.policy.empty()) throw InputError("export-policy: expected a tool (argo or flagger) and a policy file");
  const Exported exported = export_policy(a.tool, a.policy, a.metrics, a.name);
  for (const std::string& w : exported.warnings) std::cerr << "warning: " << w << "\n";
  if (a.out.empty()) {
    for (size_t i = 0; i < exported.files.size(); ++i) std::cout << (i ? "---\n" : "") << exported.files[i].second;
    return 0;
  }
  make_folder(a.out);
  for (const auto& [name, text] : exported.files) {
    const std::string path = a.out + "/" + name;
    std::ofstream file;
    output(path, file) << text;
    std::cerr << "wrote " << path << "\n";
  }
  return 0;
}

struct ExportArgs {
  std::string db, table = "summaries", format = "csv", out;
};

int export_command(const ExportArgs& a) {
  std::ofstream file;
  export_store(a.db, a.table, a.format, output(a.out, file));
  return 0;
}

int report_command(const std::string& in, std::string out) {
  const std::string kind = saved_results_kind(in);
  if (out.empty())
    out = kind == "sweep" ? std::filesystem::path(in).replace_extension(".html").string() : in + "/report.html";
  std::ofstream file;
  write_saved_report(output(out, file), in);
  std::cerr << "wrote " << out << "\n";
  return 0;
}

int merge_command(const std::string& out, const std::vector<std::string>& shards, const std::string& command_line) {
  merge_stores(out, shards, command_line);
  std::printf("merged %zu shards into %s\n", shards.size(), out.c_str());
  return 0;
}

struct StudyFileArgs {
  std::string file, out;
  unsigned threads = 0;
  bool quiet = false, progress = false;
};

// --quiet and --progress, as every long command has them.
void add_progress_flags(CLI::App* cmd, bool& quiet, bool& progress) {
  cmd->add_flag("--quiet,-q", quiet, "Nothing on stderr but warnings and errors");
  cmd->add_flag("--progress", progress,
                "When stderr is not a terminal (batch logs, CI), a progress line every 5 s (on a terminal: always)");
}

// tune and power take the same arguments: a study file, an output folder, threads, quiet.
CLI::App* add_study_file_command(CLI::App& app, const char* name, StudyFileArgs& a, const std::string& description,
                                 const std::string& file_help, const std::string& out_help) {
  CLI::App* cmd = app.add_subcommand(name, description);
  cmd->add_option(name, a.file, file_help)->required();
  cmd->add_option("--out", a.out, out_help);
  cmd->add_option("--threads", a.threads, "Threads (0: one per core)")->capture_default_str();
  add_progress_flags(cmd, a.quiet, a.progress);
  return cmd;
}

// What tune and power leave beside their tables: the text summary, the file that was run
// (input.yaml) and the scenario and policy files it names (input-1.yaml ...: each file's
// path on its first line), and the folder's page (the one `canarysim report DIR` writes).
void finish_folder(const std::string& dir, const std::string& summary, const std::string& input) {
  std::ofstream file;
  output(dir + "/summary.txt", file) << summary;
  file.close();
  output(dir + "/input.yaml", file) << read_text_file(input, kMaxYamlBytes, "a YAML file");
  file.close();
  const ConfigMap m = ConfigMap::parse_file(input);
  std::vector<std::string> named;  // power: scenario, policy; tune: policy, scenarios[].scenario
  for (const char* key : {"scenario", "policy"})
    if (m.has(key) && !m.is_map(key)) named.push_back(m.file_path(key));
  for (const ConfigMap& e : m.maps("scenarios"))
    if (e.has("scenario")) named.push_back(e.file_path("scenario"));
  for (size_t i = 0; i < named.size(); ++i) {
    output(dir + "/input-" + std::to_string(i + 1) + ".yaml", file)
        << "# " << named[i] << "\n" << read_text_file(named[i], kMaxYamlBytes, "a YAML file");
    file.close();
  }
  write_saved_report(output(dir + "/report.html", file), dir);
}

std::string default_out(const std::string& file, const char* what) {
  return std::filesystem::path(file).stem().string() + "-" + what;
}

int tune_command(const StudyFileArgs& a) {
  TuneOptions o;
  o.threads = threads_option(a.threads);
  Progress progress(a.quiet, a.progress, workers_for(o.threads, 1000));
  o.progress = progress.callback();
  {
    TuneOptions plan;
    plan.validate_only = true;
    const TuneResult p = run_tune(a.file, plan);
    progress.note("work: tuning '" + p.name + "', " + std::to_string(p.candidates.size()) + " candidates over " +
                  std::to_string(p.scenario_labels.size()) + " scenarios (successive halving: most stop early)");
    for (const std::string& w : p.warnings) std::cerr << "warning: " << a.file << ": " << w << "\n";
  }
  const TuneResult t = run_tune(a.file, o);
  const std::string dir = a.out.empty() ? default_out(a.file, "tune") : a.out;
  write_tune_files(t, dir);
  finish_folder(dir, tune_report(t), a.file);
  std::cout << tune_report(t) << "\nwrote " << dir
            << "/candidates.csv, pareto.csv, pareto.svg, summary.txt, input.yaml, report.html\n";
  return t.found ? 0 : kExitCheckFailed;
}

int power_command(const StudyFileArgs& a) {
  PowerOptions o;
  o.threads = threads_option(a.threads);
  Progress progress(a.quiet, a.progress, 1, "sizes");  // a size's runs share the threads: sizes go one at a time
  o.progress = progress.callback();
  {
    PowerOptions plan;
    plan.validate_only = true;
    const PowerResult p = run_power(a.file, plan);
    progress.note("work: power study '" + p.name + "' of " + p.field + ", " + std::to_string(p.runs) +
                  " runs a size");
    for (const std::string& w : p.warnings) std::cerr << "warning: " << a.file << ": " << w << "\n";
  }
  const PowerResult p = run_power(a.file, o);
  const std::string dir = a.out.empty() ? default_out(a.file, "power") : a.out;
  write_power_files(p, dir);
  finish_folder(dir, power_report(p), a.file);
  std::cout << power_report(p) << "\nwrote " << dir << "/power.csv, power.svg, summary.txt, input.yaml, report.html\n";
  return 0;
}

struct CheckArgs {
  std::string suite, runs, format = "table", report, out;
  bool update = false, quiet = false, progress = false;
  unsigned threads = 0;
};

int check_command(const CheckArgs& a) {
  const std::string& suite = a.suite;
  const std::string& runs = a.runs;
  CheckOptions o;
  o.update_baseline = a.update;
  o.threads = threads_option(a.threads);
  Progress progress(a.quiet, a.progress, workers_for(o.threads, 1000));
  o.progress = progress.callback();
  if (runs == "auto") {
    o.auto_runs = true;
  } else if (!runs.empty()) {
    const auto n = parse_fraction(runs);
    if (!n || *n < 10 || *n > 1e8 || *n != std::floor(*n))
      throw InputError("--runs: expected a whole number of runs from 10 to 100000000, or auto; got '" + runs + "'");
    o.runs = static_cast<uint64_t>(*n);
  }
  std::string plan = load_check_suite(suite).substr(suite.size() + 2);  // "valid check suite ..."
  if (plan.rfind("valid ", 0) == 0) plan.erase(0, 6);
  progress.note("work: " + plan + (o.runs > 0 ? " (--runs " + std::to_string(o.runs) + " for every case)" : "") +
                (o.auto_runs ? " (--runs auto: more where a comparison is undecided)" : ""));
  const CheckOutcome c = run_check(suite, o);
  std::ofstream file;
  std::ostream& out = output(a.out, file);
  if (a.format == "markdown") write_check_markdown(out, c);
  else out << c.report;
  if (!a.report.empty()) {
    std::ofstream page;
    write_check_html(output(a.report, page), c);
    std::cerr << "wrote " << a.report << "\n";
  }
  return c.budgets_ok && c.baseline_ok ? 0 : kExitCheckFailed;
}

struct FitArgs {
  FitInputs inputs;
  std::string rate, ttft, itl, latency, errors, name = "fitted", policy, out;
};

int fit_command(FitArgs a) {
  for (const auto& [role, file] : {std::pair<const char*, std::string&>{"rate", a.rate}, {"ttft", a.ttft},
                                   {"itl", a.itl}, {"latency", a.latency}, {"errors", a.errors}})
    if (!file.empty()) a.inputs.assigned[role] = file;
  // What fit writes must load: checked before it is written (the policy, a path relative
  // to the output, is checked with the file below).
  const std::string text = fit_prometheus(a.inputs, a.name);
  try {
    parse_scenario(ConfigMap::parse_string(text, "<fitted>"));
  } catch (const InputError& e) {
    throw InputError(std::string("fit prometheus: the exports give a scenario canarysim cannot load: ") + e.what());
  }
  std::ofstream file;
  output(a.out, file) << text << (a.policy.empty() ? "" : "policy: " + a.policy + "\n");
  if (!a.out.empty()) {
    validate_file(a.out);  // what fit writes must load as a scenario
    std::cerr << "wrote " << a.out << "\n";
  }
  return 0;
}

struct CalibrateArgs {
  std::string profile, model, hardware, out;
  int tensor_parallel = 0;
};

int calibrate_command(const CalibrateArgs& a) {
  std::vector<ProfileFit> fits;
  for (const ProfileFit& f : fit_profiles(load_profile(a.profile))) {
    if ((a.model.empty() || f.model == a.model) && (a.hardware.empty() || f.hardware == a.hardware) &&
        (a.tensor_parallel == 0 || f.tensor_parallel == a.tensor_parallel))
      fits.push_back(f);
  }
  if (fits.empty()) throw InputError(a.profile + ": no rows match the --model, --hardware and --tensor-parallel given");
  std::printf("iteration time = b0 + b1 * prefill tokens + b2 * decoding sequences "
              "(relative least squares)\n\n");
  std::printf("%-12s %-16s %3s %5s %9s %12s %12s %8s %8s %8s\n", "model", "hardware", "tp", "rows",
              "b0 ms", "b1 ms/token", "b2 ms/seq", "rms err", "decode", "prefill");
  for (const ProfileFit& f : fits) {
    std::printf("%-12s %-16s %3d %5zu %9.3f %12.6f %12.5f %7.1f%% %7.1f%% %7.1f%%\n", f.model.c_str(),
                f.hardware.c_str(), f.tensor_parallel, f.rows, f.b0_s * 1e3, f.b1_s * 1e3,
                f.b2_s * 1e3, f.rms_relative_error * 100, f.decode_rms_relative_error * 100,
                f.prefill_rms_relative_error * 100);
  }
  if (!a.out.empty()) {
    if (fits.size() != 1) {
      throw InputError("--out writes one profile; " + std::to_string(fits.size()) +
                       " match: narrow them with --model, --hardware and --tensor-parallel");
    }
    std::ofstream out(a.out);
    if (!out) throw InputError(a.out + ": cannot be written");
    out << profile_yaml(fits[0], a.profile);
    std::printf("\nwrote %s\n", a.out.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"canarysim: simulate canary rollout policies for LLM serving.\n"
               "Exit codes: 0 done, 2 bad input, 1 internal error, 3 check breached or tune found nothing, 130 interrupted (Ctrl-C)."};
  app.set_version_flag("--version", std::string("canarysim ") + CANARYSIM_VERSION);
  app.require_subcommand(1);
  // Given before or after the command: subcommands pass options they lack to the app.
  app.fallthrough();
  app.add_option("--max-events-per-run", work_limits().max_events_per_run,
                 "Refuse runs estimated above this many events (docs/input-contract.md)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);

  RunArgs run;
  CLI::App* run_cmd = app.add_subcommand("run", "Run a Monte Carlo study of a scenario");
  run_cmd->add_option("scenario", run.scenario, "Scenario YAML file")->required();
  run_cmd->add_option("--policy", run.policy, "Policy YAML file (overrides the scenario's)");
  CLI::Option* run_runs = run_cmd->add_option("--runs", run.runs, "Monte Carlo runs")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{100000000}));
  run_cmd->add_option("--seed", run.seed, "Seed of the study")->capture_default_str()->check(kWhole64);
  run_cmd->add_option("--threads", run.threads, "Threads (0: one per core)")
      ->capture_default_str()
      ->check(CLI::Range(0u, 1024u));
  run_cmd->add_option("--format", run.format,
                      "Output: table, json (summary and runs), csv (runs), markdown (a CI job summary)")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json", "csv", "markdown"}));
  run_cmd->add_option("--report", run.report,
                      "Also write a self-contained HTML page: the scenario and policy, the summary, the figures");
  run_cmd->add_option("--out", run.out, "Write to this file instead of standard output");
  add_progress_flags(run_cmd, run.quiet, run.progress);
  run_cmd->add_option("--fidelity", run.fidelity, "exact (default: the scenario's fidelity), scaled, or scaled:K: simulate the largest pool as K replicas (default 40) fed 1 user in N/K, counts scaled back (sim/model/fidelity.h)");
  run_cmd->add_option("--fidelity-check", run.fidelity_check, "Scaled: runs simulated again at 4x the replicas after the study, to check that its figures do not move (default: the scenario's fidelity.check, 20; 0: none)")
      ->check(CLI::Range(int64_t{0}, int64_t{1000000}));
  run_cmd->add_option("--precision", run.precision,
                      "Add runs (100, then doubling) until the metric's 95 % interval is narrower than this "
                      "(0.02: two points); --runs is then the cap (default 100000)")
      ->check(CLI::Range(1e-6, 1.0));
  run_cmd->add_option("--precision-metric", run.precision_metric, "The rate --precision watches")
      ->capture_default_str();

  std::vector<std::string> to_validate;
  CLI::App* validate_cmd =
      app.add_subcommand("validate", "Check scenario, policy, sweep, tune, power and check-suite files; exit 2 on the first error");
  validate_cmd->add_option("files", to_validate, "YAML files")->required();

  TimelineArgs timeline;
  CLI::App* timeline_cmd = app.add_subcommand(
      "timeline", "Show one run up close: weight, SLIs per analysis tick, every decision");
  timeline_cmd->add_option("scenario", timeline.scenario, "Scenario YAML file")->required();
  timeline_cmd->add_option("--policy", timeline.policy, "Policy YAML file (overrides the scenario's)");
  timeline_cmd->add_option("--run", timeline.run, "Which run of the study")->capture_default_str()->check(kWhole64);
  timeline_cmd->add_option("--seed", timeline.seed, "Seed of the study")->capture_default_str()->check(kWhole64);
  timeline_cmd->add_option("--format", timeline.format, "Output: table or csv")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "csv"}));
  timeline_cmd->add_option("--out", timeline.out, "Write to this file instead of standard output");
  timeline_cmd->add_option("--fidelity", timeline.fidelity, "exact (default: the scenario's fidelity), scaled, or scaled:K: simulate the largest pool as K replicas (default 40) fed 1 user in N/K, counts scaled back (sim/model/fidelity.h)");

  CompareArgs cmp;
  CLI::App* compare_cmd = app.add_subcommand(
      "compare", "Run several policies on the same runs and compare them, paired by run");
  compare_cmd->add_option("scenario", cmp.scenario, "Scenario YAML file")->required();
  compare_cmd->add_option("policies", cmp.policies, "Policy files; the first is the reference")->required();
  compare_cmd->add_option("--runs", cmp.runs, "Monte Carlo runs")->capture_default_str()->check(CLI::Range(uint64_t{2}, uint64_t{100000000}));
  compare_cmd->add_option("--seed", cmp.seed, "Seed")->capture_default_str()->check(kWhole64);
  compare_cmd->add_option("--threads", cmp.threads, "Threads (0: one per core)")->capture_default_str();
  compare_cmd->add_option("--format", cmp.format, "table, json, csv (paired differences) or markdown (a CI job summary)")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json", "csv", "markdown"}));
  compare_cmd->add_option("--out", cmp.out, "Write to this file instead of standard output");
  compare_cmd->add_option("--report", cmp.report,
                          "Also write a self-contained HTML page: every policy's figures and CDFs, the differences");
  add_progress_flags(compare_cmd, cmp.quiet, cmp.progress);
  compare_cmd->add_option("--fidelity", cmp.fidelity, "exact (default: the scenario's fidelity), scaled, or scaled:K: simulate the largest pool as K replicas (default 40) fed 1 user in N/K, counts scaled back (sim/model/fidelity.h)");
  compare_cmd->add_option("--fidelity-check", cmp.fidelity_check, "Scaled: runs of each policy simulated again at 4x the replicas after the study, to check that its figures do not move (default: the scenario's fidelity.check, 20; 0: none)")
      ->check(CLI::Range(int64_t{0}, int64_t{1000000}));

  ImportArgs imp;
  CLI::App* import_cmd = app.add_subcommand(
      "import", "Turn an Argo Rollout, a Flagger Canary, a Kayenta config (or ad hoc canary request) or an AWS strategy into a policy");
  import_cmd->add_option("tool", imp.tool, "argo, flagger, kayenta or aws")
      ->required()
      ->check(CLI::IsMember({"argo", "flagger", "kayenta", "aws"}));
  import_cmd->add_option("inputs", imp.inputs, "Files (kayenta: the canary config, then optionally a Spinnaker pipeline or stage for the schedule; aws: a predefined strategy's name, or a SageMaker or CodeDeploy deployment config file)")->required();
  import_cmd->add_option("--out", imp.out, "Write the policy here instead of standard output");
  import_cmd->add_option("--lifetime", imp.options.lifetime, "kayenta without a Spinnaker stage: analysis lifetime")->capture_default_str();
  import_cmd->add_option("--interval", imp.options.interval, "kayenta without a Spinnaker stage: judgement interval")->capture_default_str();
  import_cmd->add_option("--weight", imp.options.weight_percent, "kayenta: canary weight, percent")->capture_default_str();
  import_cmd->add_option("--name", imp.options.name, "argo, flagger, kayenta: the Rollout, Canary or Spinnaker stage to import when the files hold several");
  import_cmd->add_option("--latency", imp.options.latency,
                         "The LLM latency a web request latency (request_duration, latency) stands for")
      ->check(CLI::IsMember({"e2e", "ttft", "itl"}))
      ->capture_default_str();
  import_cmd->add_option("--match-weight", imp.options.match_weight,
                         "flagger A/B testing: percent of users the header/cookie match sends to the canary")
      ->check(CLI::Range(0.01, 100.0))
      ->capture_default_str();
  import_cmd->add_flag("--strict", imp.options.strict, "Refuse the import on any warning (nothing dropped or approximated)");

  CheckArgs chk;
  CLI::App* check_cmd = app.add_subcommand(
      "check", "CI gate: run a suite of policies on scenarios against budgets and a baseline "
               "(exit 3 when breached)");
  check_cmd->add_option("suite", chk.suite, "Suite YAML file")->required();
  check_cmd->add_flag("--update-baseline", chk.update, "Rewrite the suite's baseline file");
  check_cmd->add_option("--threads", chk.threads, "Threads (0: one per core)");
  add_progress_flags(check_cmd, chk.quiet, chk.progress);
  check_cmd->add_option("--runs", chk.runs,
                        "Runs per case, or auto: add runs until every comparison with the baseline is decided");
  check_cmd->add_option("--format", chk.format, "table, or markdown (a CI job summary)")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "markdown"}));
  check_cmd->add_option("--out", chk.out, "Write to this file instead of standard output");
  check_cmd->add_option("--report", chk.report,
                        "Also write a self-contained HTML page: every case's figures, budgets and changes, the files");

  SweepArgs sweep;
  CLI::App* sweep_cmd = app.add_subcommand(
      "sweep", "Run a sweep of scenario and policy fields into an SQLite results store");
  sweep_cmd->add_option("sweep", sweep.sweep, "Sweep YAML file")->required();
  sweep_cmd->add_option("--db", sweep.db, "Results store (default: SWEEP.db, or SWEEP.shard-K-of-N.db)");
  sweep_cmd->add_flag("--resume", sweep.resume, "Complete the store if it exists (runs the missing runs only)");
  sweep_cmd->add_option("--shard", sweep.shard, "Run shard K of N (K/N)")->capture_default_str();
  sweep_cmd->add_option("--threads", sweep.threads, "Threads (0: one per core)")->capture_default_str();
  add_progress_flags(sweep_cmd, sweep.quiet, sweep.progress);

  std::string merge_out;
  std::vector<std::string> merge_inputs;
  CLI::App* merge_cmd = app.add_subcommand(
      "merge", "Combine the shard stores of one sweep into one, as if run on one machine");
  merge_cmd->add_option("out", merge_out, "The merged store to write")->required();
  merge_cmd->add_option("shards", merge_inputs, "Every shard's store")->required();

  ExportArgs exp;
  ExportPolicyArgs xp;
  CLI::App* export_policy_cmd = app.add_subcommand(
      "export-policy", "Write an argo or flagger policy as the Rollout + AnalysisTemplates or Canary + MetricTemplates to apply");
  export_policy_cmd->add_option("tool", xp.tool, "argo or flagger")->check(CLI::IsMember({"argo", "flagger"}));
  export_policy_cmd->add_option("policy", xp.policy, "The canarysim policy file (kind: argo or kind: flagger)");
  export_policy_cmd->add_option("--out", xp.out, "Write the files into this folder instead of standard output");
  export_policy_cmd->add_option("--metrics", xp.metrics, "The metric mapping: PromQL for each SLI (default: vLLM's names)");
  export_policy_cmd->add_option("--name", xp.name, "The Rollout or Canary name, and its workload's")->capture_default_str();
  export_policy_cmd->add_flag("--print-metrics", xp.print_metrics, "Print the default metric mapping, to edit a copy");
  CLI::App* export_cmd = app.add_subcommand("export", "Write a results store's table as CSV or JSON");
  export_cmd->add_option("db", exp.db, "Results store")->required();
  export_cmd->add_option("--table", exp.table, "summaries (per point), runs or points")
      ->capture_default_str()
      ->check(CLI::IsMember({"summaries", "runs", "points"}));
  export_cmd->add_option("--format", exp.format, "csv or json (a list of records)")
      ->capture_default_str()
      ->check(CLI::IsMember({"csv", "json"}));
  export_cmd->add_option("--out", exp.out, "Write to this file instead of standard output");

  StudyFileArgs tune, power;
  CLI::App* tune_cmd = add_study_file_command(
      app, "tune", tune,
      "Search a policy's parameters for the best trade-off over a mix of scenarios "
      "(exit 3 when no candidate meets the constraints)",
      "Tuning YAML file",
      "Folder for candidates.csv, pareto.csv, pareto.svg, summary.txt, input.yaml, report.html (default: NAME-tune)");
  CLI::App* power_cmd = add_study_file_command(
      app, "power", power, "The smallest regression a policy catches in 90% of runs, and its power curve",
      "Power study YAML file",
      "Folder for power.csv, power.svg, summary.txt, input.yaml, report.html (default: NAME-power)");

  CLI::App* reference_cmd = app.add_subcommand(
      "reference", "Print every key of every file kind, with type, default, range and meaning (docs/reference.md)");

  std::string report_in, report_out;
  CLI::App* report_cmd = app.add_subcommand(
      "report", "Write the HTML page of saved results: a sweep store, or a tune or power folder "
                "(for a study, a comparison or a check: --report on run, compare, check)");
  report_cmd->add_option("results", report_in, "A sweep's results store (.db), or the folder tune or power wrote")
      ->required();
  report_cmd->add_option("--out", report_out, "The page to write (default: STORE.html, or FOLDER/report.html)");

  CalibrateArgs calibrate;
  FitArgs fit;
  CLI::App* fit_cmd = app.add_subcommand("fit", "Write a scenario's traffic and latencies from monitoring data");
  fit_cmd->require_subcommand(1);
  CLI::App* fit_prom = fit_cmd->add_subcommand(
      "prometheus", "From Prometheus HTTP API exports (query_range or query JSON, as curl saves them; docs/fit.md)");
  fit_prom->add_option("files", fit.inputs.files, "Exports, each classified by its metric name or file name");
  fit_prom->add_option("--rate", fit.rate, "The request-rate export (requests/s)");
  fit_prom->add_option("--ttft", fit.ttft, "The time-to-first-token histogram export (buckets by le)");
  fit_prom->add_option("--itl", fit.itl, "The inter-token latency histogram export");
  fit_prom->add_option("--latency", fit.latency, "The end-to-end latency histogram export (for comparison)");
  fit_prom->add_option("--errors", fit.errors, "The error-ratio export (in [0, 1])");
  fit_prom->add_option("--name", fit.name, "The scenario's name")->capture_default_str();
  fit_prom->add_option("--policy", fit.policy, "A policy file for the scenario to name (relative to --out's folder)");
  fit_prom->add_option("--out", fit.out, "Write the scenario here (checked by loading it) instead of standard output");

  CLI::App* calibrate_cmd = app.add_subcommand(
      "calibrate", "Fit a batched pool's iteration time to a measured serving profile (CSV)");
  calibrate_cmd->add_option("profile", calibrate.profile, "Profile CSV (Splitwise schema)")->required();
  calibrate_cmd->add_option("--model", calibrate.model, "Only this model");
  calibrate_cmd->add_option("--hardware", calibrate.hardware, "Only this hardware");
  calibrate_cmd->add_option("--tensor-parallel", calibrate.tensor_parallel, "Only this degree");
  calibrate_cmd->add_option("--out", calibrate.out, "Write the one matching fit as a profile YAML");

  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message and usage
    return kExitBadInput;
  }

  // Ctrl-C: studies stop taking runs and finish those running (the store keeps them); a
  // second Ctrl-C ends the process at once.
  std::signal(SIGINT, [](int) {
    interrupt_flag() = true;
    std::signal(SIGINT, SIG_DFL);
  });
  try {
    if (*run_cmd) {
      run.runs_given = run_runs->count() > 0;
      return run_command(run);
    }
    if (*validate_cmd) return validate_command(to_validate);
    if (*calibrate_cmd) return calibrate_command(calibrate);
    if (*fit_prom) return fit_command(fit);
    if (*timeline_cmd) return timeline_command(timeline);
    if (*compare_cmd) return compare_command(cmp);
    if (*import_cmd) return import_command(imp);
    if (*check_cmd) return check_command(chk);
    if (*report_cmd) return report_command(report_in, report_out);
    if (*reference_cmd) {
      std::cout << reference_markdown();
      return 0;
    }
    if (*sweep_cmd) return sweep_command(sweep, command_line);
    if (*merge_cmd) return merge_command(merge_out, merge_inputs, command_line);
    if (*export_cmd) return export_command(exp);
    if (*export_policy_cmd) return export_policy_command(xp);
    if (*tune_cmd) return tune_command(tune);
    if (*power_cmd) return power_command(power);
  } catch (const InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const Interrupted& e) {
    std::cerr << e.what() << "\n";
    return kExitInterrupted;
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << "\n";
    return kExitInternal;
  }
  return kExitInternal;
}
