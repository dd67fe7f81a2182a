#include "sim/study/check.h"

#include <array>
#include <cmath>
#include <iterator>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "policies/policy.h"
#include "sim/io/config.h"
#include "sim/io/schema.h"
#include "sim/io/report.h"
#include "sim/model/scenario.h"
#include "sim/study/study.h"

namespace canarysim {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The figures a case is compared on against its baseline, run by run: each worse when
// higher. Rates are 0/1 per run (tolerance in absolute points), the others values where
// they apply (tolerance relative to the baseline's mean over the pairs).
struct Figure {
  const char* name;
  bool rate;
  double (*of)(const RunResult&);
};
const Figure kFigures[] = {
    {"false_rollback_rate", true,
     [](const RunResult& r) { return r.outcome == Outcome::kRolledBack && !r.regression_active ? 1.0 : 0.0; }},
    {"missed_regression_rate", true,
     [](const RunResult& r) { return r.outcome == Outcome::kPromoted && r.regression_active ? 1.0 : 0.0; }},
    {"detection_time", false, [](const RunResult& r) { return r.detection_time_s; }},
    {"blast_radius_requests", false,
     [](const RunResult& r) { return r.regression_active ? static_cast<double>(r.blast_radius_requests) : kNaN; }},
    {"rollout_duration", false,
     [](const RunResult& r) { return r.outcome == Outcome::kPromoted ? r.rollout_duration_s : kNaN; }},
    {"failed_requests", false, [](const RunResult& r) { return static_cast<double>(r.failed_requests); }},
};
constexpr size_t kFigureCount = sizeof kFigures / sizeof kFigures[0];
using PerRun = std::array<std::vector<double>, kFigureCount>;

void append_runs(PerRun& into, const std::vector<RunResult>& runs) {
  for (const RunResult& r : runs)
    for (size_t f = 0; f < kFigureCount; ++f) into[f].push_back(kFigures[f].of(r));
}

// The summary line of a case.
struct Figures {
  double false_rollback_rate = 0, missed_regression_rate = 0;
  double detection_p90 = kNaN, rollout_p50 = kNaN, blast_mean = kNaN;
};
Figures figures_of(const Summary& s) {
  return {s.false_rollback.rate, s.missed_regression.rate, s.detection_time_s.p90, s.rollout_duration_s.p50,
          s.blast_radius_requests.mean};
}

std::string num(double x) { return json_number(x); }

// The verdict on one figure, paired by run against the baseline.
struct Verdict {
  enum class Kind { kNotApplicable, kSame, kBetter, kWorse, kUndecided } kind = Kind::kNotApplicable;
  uint64_t pairs = 0;
  double mean = kNaN, low = kNaN, high = kNaN, tolerance = 0;
};

// Runs 0..n-1 of `now` against the same runs of `before`: the mean per-run difference
// with its 95 % interval. Worse when the interval lies wholly above the tolerance; not
// worse (same, or better when it lies wholly below 0) when it lies at or below it;
// else undecided (more runs would tell).
Verdict compare_paired(const std::vector<double>& now, const std::vector<double>& before, size_t n, bool rate,
                       double tolerance) {
  Verdict v;
  double sum = 0, sum2 = 0, base = 0;
  for (size_t i = 0; i < n && i < now.size() && i < before.size(); ++i) {
    if (std::isnan(now[i]) || std::isnan(before[i])) continue;
    const double d = now[i] - before[i];
    ++v.pairs, sum += d, sum2 += d * d, base += before[i];
  }
  if (v.pairs == 0) return v;
  const double k = static_cast<double>(v.pairs);
  v.mean = sum / k;
  const double var = v.pairs > 1 ? std::max(0.0, (sum2 - k * v.mean * v.mean) / (k - 1)) : 0;
  const double half = v.pairs > 1 ? 1.959963984540054 * std::sqrt(var / k) : (v.mean == 0 ? 0 : HUGE_VAL);
  v.low = v.mean - half;
  v.high = v.mean + half;
  v.tolerance = rate ? tolerance : tolerance * std::abs(base / k);
  if (v.low > v.tolerance + 1e-12) v.kind = Verdict::Kind::kWorse;
  else if (v.high < -1e-12) v.kind = Verdict::Kind::kBetter;
  else if (v.high <= v.tolerance + 1e-12) v.kind = Verdict::Kind::kSame;
  else v.kind = Verdict::Kind::kUndecided;
  return v;
}

struct Budget {
  std::string key;
  double limit;
};

struct Case {
  std::string name;
  Scenario scenario;
  std::vector<Budget> budgets;
  uint64_t runs = 0;  // this case's runs (default: the suite's)
  std::array<double, kFigureCount> tolerance{};
};

struct Suite {
  std::string name, baseline_path;
  StudyOptions options;
  uint64_t max_runs = 3200;  // the cap of --runs auto
  std::vector<Case> cases;
};

using namespace schema;
const Section kSuite{"check suite", "(top level)", "A CI gate: (scenario, policy) cases run with fixed seeds, checked against budgets and a committed baseline.", {
    {"name", kText, "the file's path", "", "the suite's name"},
    {"runs", kCount, "300", "[10, 10^8]", "runs per case"},
    {"max_runs", kCount, "3200", "[10, 10^8]", "the cap of --runs auto"},
    {"seed", kCount, "1", "[0, 2^64)", "seed of every case"},
    {"baseline", kFile, "(none)", "", "the baseline JSON (written by --update-baseline)"},
    {"tolerance", kMap, "rates 0, the others 5%", "", "how much worse a figure may be: section tolerance"},
    {"cases", kList, "", "at least one", "section cases[]"},
}};
const Section kCase{"check suite", "cases[]", "One case.", {
    {"name", kText, "", "unique", "the case's name (the baseline's key)"},
    {"scenario", kFile, "", "", "the scenario"},
    {"policy", kFile, "the scenario's", "", "the policy"},
    {"budgets", kMap, "(none)", "", "METRIC: limit (any summary metric, each at most): detection_time_p90: 15m, false_rollback_rate: 2%"},
    {"runs", kCount, "the suite's", "[10, 10^8]", "runs of this case"},
    {"tolerance", kMap, "the suite's", "", "section tolerance, for this case"},
}, false};
const Section kTolerance{"check suite", "tolerance, cases[].tolerance", "How much worse than the baseline a figure may be before the check fails: rates in absolute points, the others relative to the baseline's mean.", {
    {"false_rollback_rate", kFraction, "0", "[0, 1]", "points"},
    {"missed_regression_rate", kFraction, "0", "[0, 1]", "points"},
    {"detection_time", kFraction, "5%", "[0, 1]", "relative"},
    {"blast_radius_requests", kFraction, "5%", "[0, 1]", "relative"},
    {"rollout_duration", kFraction, "5%", "[0, 1]", "relative"},
    {"failed_requests", kFraction, "5%", "[0, 1]", "relative"},
}, false};

// Tolerances by figure name: rates in points (1%), the others relative (10%).
void read_tolerances(const ConfigMap& m, std::array<double, kFigureCount>& into) {
  if (!m.has("tolerance")) return;
  const ConfigMap t = m.map("tolerance");
  if (kTolerance.keys().size() != kFigureCount) throw std::logic_error("check: the tolerance table lacks a figure");
  t.allow(kTolerance);
  for (size_t f = 0; f < kFigureCount; ++f)
    if (t.has(kFigures[f].name)) into[f] = t.probability(kFigures[f].name, 0);
}

// Reads the suite and every case's scenario, policy and budgets, before anything runs.
Suite parse_suite(const ConfigMap& suite, const std::string& suite_path) {
  suite.allow(kSuite);
  Suite out;
  out.name = suite.text("name", suite_path);
  out.options.runs = suite.count("runs", 300, 10, 100000000);
  out.max_runs = suite.count("max_runs", 3200, 10, 100000000);
  out.options.seed = suite.count("seed", 1, 0, UINT64_MAX);
  out.baseline_path = suite.has("baseline") ? suite.file_path("baseline") : "";
  std::array<double, kFigureCount> tolerance{};
  for (size_t f = 0; f < kFigureCount; ++f) tolerance[f] = kFigures[f].rate ? 0 : 0.05;
  read_tolerances(suite, tolerance);
  const auto cases = suite.maps("cases");
  if (cases.empty()) suite.fail("cases", "a list of at least one case");
  for (const ConfigMap& c : cases) {
    c.allow(kCase);
    Case k{c.text("name"), load_scenario(c.file_path("scenario")), {}, c.count("runs", out.options.runs, 10, 100000000),
           tolerance};
    read_tolerances(c, k.tolerance);
    if (c.has("policy")) k.scenario.policy = load_policy_file(c.file_path("policy"));
    if (!k.scenario.policy) c.fail("policy", "a policy file (the scenario has none)");
    check_policy_segments(k.scenario, *k.scenario.policy);
    // A budget is any summary metric (sim/study/study.h), each "at most".
    if (c.has("budgets")) {
      const ConfigMap b = c.map("budgets");
      for (const std::string& key : b.keys()) {
        const SummaryMetric& metric = summary_metric_at(
            b, key, key, "budget",
            "a metric such as false_rollback_rate, detection_time_p90 or blast_radius_requests_mean "
            "(docs/sweeps.md lists them all)");
        k.budgets.push_back({metric.name, metric_value_at(b, key, metric)});
      }
    }
    out.cases.push_back(std::move(k));
  }
  return out;
}

// A baseline case's per-run figures (empty when the baseline predates them).
PerRun read_per_run(const ConfigMap& old) {
  PerRun out;
  if (!old.has("per_run")) return out;
  const ConfigMap pr = old.map("per_run");
  for (size_t f = 0; f < kFigureCount; ++f) {
    if (!pr.has(kFigures[f].name)) continue;
    for (const std::string& item : pr.yaml_items(kFigures[f].name)) {
      const auto x = parse_fraction(item);
      out[f].push_back(x ? *x : kNaN);  // null: the figure does not apply to that run
    }
  }
  return out;
}

std::string per_run_json(const PerRun& runs) {
  std::string out = "{";
  for (size_t f = 0; f < kFigureCount; ++f) {
    out += std::string(f ? ", " : "") + "\"" + kFigures[f].name + "\": [";
    for (size_t i = 0; i < runs[f].size(); ++i) out += (i ? "," : "") + num(runs[f][i]);
    out += "]";
  }
  return out + "}";
}

// A change against the baseline for people: rates in points ("0.25pt", `points` the
// suffix), the rest to three decimals; "-" where none applies.
std::string change_text(double x, bool rate, const char* points) {
  if (std::isnan(x)) return "-";
  return rate ? num(std::round(x * 1e6) / 1e4) + points : num(std::round(x * 1000) / 1000);
}

const char* verdict_word(Verdict::Kind k) {
  switch (k) {
    case Verdict::Kind::kWorse: return "WORSE";
    case Verdict::Kind::kBetter: return "better";
    case Verdict::Kind::kSame: return "same";
    case Verdict::Kind::kUndecided: return "undecided";
    default: return "n/a";
  }
}

}  // namespace

const std::vector<std::string>& check_suite_keys() {
  static const std::vector<std::string> keys = kSuite.keys();
  return keys;
}

std::string load_check_suite(const std::string& suite_path) {
  const Suite s = parse_suite(ConfigMap::parse_file(suite_path), suite_path);
  return suite_path + ": valid check suite '" + s.name + "', " + std::to_string(s.cases.size()) + " cases x " +
         std::to_string(s.options.runs) + " runs";
}

CheckOutcome run_check(const std::string& suite_path, bool update_baseline, unsigned threads) {
  CheckOptions o;
  o.update_baseline = update_baseline;
  o.threads = threads;
  return run_check(suite_path, o);
}

CheckOutcome run_check(const std::string& suite_path, const CheckOptions& opt) {
  const ConfigMap suite = ConfigMap::parse_file(suite_path);
  Suite parsed = parse_suite(suite, suite_path);
  StudyOptions options = parsed.options;
  options.threads = opt.threads;
  options.progress = opt.progress;
  if (opt.runs > 0)
    for (Case& c : parsed.cases) c.runs = opt.runs;
  const std::string& baseline_path = parsed.baseline_path;

  std::map<std::string, ConfigMap> baseline;
  CheckOutcome out;
  if (!baseline_path.empty() && file_exists(baseline_path)) {
    const ConfigMap b = ConfigMap::parse_file(baseline_path);
    const ConfigMap cases = b.map("cases");
    for (const std::string& k : cases.keys()) baseline.emplace(k, cases.map(k));
    out.baseline_found = true;
  }

  out.suite = parsed.name;
  out.suite_file = suite_path;
  out.suite_text = read_text_file(suite_path, kMaxYamlBytes, "a YAML file");
  out.seed = options.seed;
  std::ostringstream report, json;
  report << "canarysim check: " << parsed.name << " (seed " << options.seed
         << (opt.auto_runs ? ", runs added until each comparison is decided, at most " + std::to_string(parsed.max_runs)
                           : std::string()) << ")\n";
  json << "{\n  \"canarysim_version\": " << json_string(CANARYSIM_VERSION) << ",\n  \"suite\": "
       << json_string(parsed.name) << ",\n  \"seed\": " << options.seed << ",\n  \"cases\": {";
  char line[320];
  size_t undecided_figures = 0;
  uint64_t planned = 0, finished = 0;  // runs, for progress
  for (const Case& c : parsed.cases)
    planned += opt.auto_runs && opt.update_baseline ? std::max(c.runs, parsed.max_runs) : c.runs;
  for (size_t i = 0; i < parsed.cases.size(); ++i) {
    const Case& c = parsed.cases[i];
    const auto it = baseline.find(c.name);
    const PerRun before = it != baseline.end() ? read_per_run(it->second) : PerRun{};
    // How many runs: the case's; with --runs auto, doubled (in run order, so the same
    // every time) while a comparison is undecided, up to the cap and the baseline's runs;
    // when writing the baseline with --runs auto, the cap (so later checks can extend).
    uint64_t n = c.runs, cap = c.runs;
    if (opt.auto_runs && opt.update_baseline) {
      n = cap = std::max(c.runs, parsed.max_runs);
    } else if (opt.auto_runs && !before[0].empty()) {
      cap = std::max<uint64_t>(std::min<uint64_t>(parsed.max_runs, before[0].size()), 10);
      n = std::min(c.runs, cap);
    }
    PerRun now;
    std::vector<RunResult> runs;
    std::array<Verdict, kFigureCount> verdicts{};
    for (uint64_t done = 0;;) {
      StudyOptions o = options;
      o.first_run = done;
      o.runs = n - done;
      if (options.progress)  // over the suite: every case's planned runs (more if --runs auto adds some)
        o.progress = [&options, &finished, &planned, done](uint64_t d, uint64_t) {
          const uint64_t all = finished + done + d;
          options.progress(all, std::max(planned, all));
        };
      Study st = run_study(c.scenario, o);
      if (st.interrupted)
        throw Interrupted("interrupted: case '" + c.name + "' after " + std::to_string(done + st.runs.size()) +
                          " runs; nothing written");
      append_runs(now, st.runs);
      runs.insert(runs.end(), std::make_move_iterator(st.runs.begin()), std::make_move_iterator(st.runs.end()));
      done = n;
      bool undecided = false;
      if (!before[0].empty())
        for (size_t f = 0; f < kFigureCount; ++f) {
          verdicts[f] = compare_paired(now[f], before[f], n, kFigures[f].rate, c.tolerance[f]);
          undecided |= verdicts[f].kind == Verdict::Kind::kUndecided;
        }
      if (!opt.auto_runs || opt.update_baseline || !undecided || n >= cap) break;
      n = std::min<uint64_t>(2 * n, cap);
    }
    finished += n;
    const Summary summary = summarize(runs);
    const Figures f = figures_of(summary);
    CheckCase& done = out.cases.emplace_back();
    done.name = c.name;
    done.scenario_text = c.scenario.source;
    done.policy_text = c.scenario.policy->source;
    done.runs = n;
    done.study.summary = summary;
    std::snprintf(line, sizeof line,
                  "\n%s (%llu runs): false rollbacks %.2f %%, missed %.2f %%, detection p90 %s, blast mean %s, "
                  "rollout p50 %s\n",
                  c.name.c_str(), static_cast<unsigned long long>(n), 100 * f.false_rollback_rate,
                  100 * f.missed_regression_rate, short_duration(f.detection_p90).c_str(),
                  std::isnan(f.blast_mean) ? "-" : num(std::round(f.blast_mean)).c_str(),
                  short_duration(f.rollout_p50).c_str());
    report << line;
    done.warnings = study_warnings(c.scenario, *c.scenario.policy);
    for (const std::string& w : done.warnings) report << "  warning   " << w << "\n";
    for (const Budget& b : c.budgets) {
      const double v = find_summary_metric(b.key)->value(summary);
      // A quantity that does not apply (no detection in an A/A case) is within budget.
      const bool ok = std::isnan(v) || v <= b.limit;
      out.budgets_ok &= ok;
      done.budgets.push_back({b.key, v, b.limit, ok});
      std::snprintf(line, sizeof line, "  %-9s budget %-28s %12.6g (limit %.6g)\n", ok ? "ok" : "BREACH",
                    b.key.c_str(), v, b.limit);
      report << line;
    }
    if (it != baseline.end() && before[0].empty()) {
      done.note = "the baseline has no per-run figures (an older canarysim wrote it): rewrite it with --update-baseline";
      report << "  " << done.note << "\n";
    } else if (it != baseline.end() && !opt.update_baseline) {
      for (size_t k = 0; k < kFigureCount; ++k) {
        const Verdict& v = verdicts[k];
        out.baseline_ok &= v.kind != Verdict::Kind::kWorse;
        undecided_figures += v.kind == Verdict::Kind::kUndecided;
        if (v.kind == Verdict::Kind::kNotApplicable) continue;
        const bool rate = kFigures[k].rate;
        done.changes.push_back({kFigures[k].name, verdict_word(v.kind), rate, v.mean, v.low, v.high, v.tolerance, v.pairs});
        auto show = [rate](double x) { return change_text(x, rate, "pt"); };
        std::snprintf(line, sizeof line, "  %-9s baseline %-24s %s [%s, %s] over %llu pairs (tolerance %s)\n",
                      verdict_word(v.kind), kFigures[k].name, show(v.mean).c_str(), show(v.low).c_str(),
                      show(v.high).c_str(), static_cast<unsigned long long>(v.pairs), show(v.tolerance).c_str());
        report << line;
      }
    } else if (out.baseline_found && it == baseline.end()) {
      done.note = "new case, not in the baseline";
      report << "  new       case, not in the baseline\n";
    }
    done.study.runs = std::move(runs);
    json << (i ? "," : "") << "\n    " << json_string(c.name) << ": {\"runs\": " << n
         << ", \"false_rollback_rate\": " << num(f.false_rollback_rate) << ", \"missed_regression_rate\": "
         << num(f.missed_regression_rate) << ", \"detection_time_p90\": " << num(f.detection_p90)
         << ", \"rollout_duration_p50\": " << num(f.rollout_p50) << ",\n      \"per_run\": " << per_run_json(now) << "}";
  }
  json << "\n  }\n}\n";
  out.new_baseline = json.str();
  if (!out.baseline_found && !baseline_path.empty() && !opt.update_baseline)
    report << "\nno baseline yet at " << baseline_path << ": run with --update-baseline to write one\n";
  if (opt.update_baseline) {
    if (baseline_path.empty()) suite.fail("baseline", "a baseline file to write");
    std::ofstream file(baseline_path);
    if (!file) throw InputError(baseline_path + ": cannot be written");
    file << out.new_baseline;
    report << "\nwrote the baseline " << baseline_path << "\n";
    out.baseline_ok = true;
  }
  report << "\n" << (out.budgets_ok ? "budgets: all within" : "budgets: BREACHED") << "; "
         << (out.baseline_ok ? "baseline: nothing worse beyond tolerance" : "baseline: WORSE beyond tolerance") << "\n";
  out.undecided = undecided_figures;
  if (undecided_figures > 0)
    report << undecided_figures << " figure(s) undecided: their intervals straddle the tolerance; more runs would tell "
           << (opt.auto_runs ? "(raise max_runs, and rewrite the baseline with --runs auto)" : "(--runs auto)") << "\n";
  out.report = report.str();
  return out;
}

}  // namespace canarysim

namespace canarysim {

void write_check_markdown(std::ostream& out, const CheckOutcome& c) {
  const bool passed = c.budgets_ok && c.baseline_ok;
  out << "### canarysim check: " << c.suite << " " << (passed ? "passed" : "FAILED") << "\n\n"
      << c.cases.size() << " cases, seed " << c.seed << ", canarysim " << CANARYSIM_VERSION << ". Budgets: "
      << (c.budgets_ok ? "all within" : "**breached**") << "; baseline: "
      << (!c.baseline_found ? "none yet" : c.baseline_ok ? "nothing worse beyond tolerance" : "**worse beyond tolerance**")
      << (c.undecided ? "; " + std::to_string(c.undecided) + " figure(s) undecided (`--runs auto` would tell)" : "")
      << ".\n\n| case | runs | false rollbacks | missed | detection p90 | blast radius (mean) | rollout p50 | verdict |\n"
         "|---|---:|---:|---:|---:|---:|---:|---|\n";
  char buf[64];
  auto pct = [&buf](const Rate& r) {
    std::snprintf(buf, sizeof buf, "%.2f %%", 100 * r.rate);
    return std::string(buf);
  };
  for (const CheckCase& k : c.cases) {
    const Summary& s = k.study.summary;
    std::string verdict;
    for (const CheckCase::Budget& b : k.budgets)
      if (!b.ok) verdict += (verdict.empty() ? "" : ", ") + std::string("budget ") + b.metric + " breached";
    for (const CheckCase::Change& ch : k.changes)
      if (ch.verdict == "WORSE") verdict += (verdict.empty() ? "" : ", ") + ch.figure + " worse";
    out << "| " << k.name << " | " << k.runs << " | " << pct(s.false_rollback) << " | " << pct(s.missed_regression)
        << " | " << short_duration(s.detection_time_s.p90) << " | "
        << (std::isnan(s.blast_radius_requests.mean) ? "-" : num(std::round(s.blast_radius_requests.mean))) << " | "
        << short_duration(s.rollout_duration_s.p50) << " | " << (verdict.empty() ? "ok" : "**" + verdict + "**")
        << " |\n";
  }
  for (const CheckCase& k : c.cases) {
    if (k.budgets.empty() && k.changes.empty() && k.note.empty() && k.warnings.empty()) continue;
    out << "\n**" << k.name << "**" << (k.note.empty() ? "" : ": " + k.note) << "\n";
    for (const std::string& w : k.warnings) out << "\n> warning: " << w << "\n";
    if (!k.budgets.empty()) {
      out << "\n| budget | value | limit | |\n|---|---:|---:|---|\n";
      for (const CheckCase::Budget& b : k.budgets) {
        const SummaryMetric::Unit unit = find_summary_metric(b.metric)->unit;
        out << "| " << b.metric << " | " << format_metric(unit, b.value) << " | " << format_metric(unit, b.limit)
            << " | " << (b.ok ? "ok" : "**BREACH**") << " |\n";
      }
    }
    if (!k.changes.empty()) {
      out << "\n| against the baseline | mean change | 95 % interval | tolerance | pairs | verdict |\n"
             "|---|---:|---|---:|---:|---|\n";
      for (const CheckCase::Change& ch : k.changes) {
        auto show = [&ch](double x) { return change_text(x, ch.rate, " pt"); };
        out << "| " << ch.figure << " | " << show(ch.mean) << " | [" << show(ch.low) << ", " << show(ch.high)
            << "] | " << show(ch.tolerance) << " | " << ch.pairs << " | "
            << (ch.verdict == "WORSE" ? "**WORSE**" : ch.verdict) << " |\n";
      }
    }
  }
}

}  // namespace canarysim
