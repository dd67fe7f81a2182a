#include "sim/study/check.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "policies/policy.h"
#include "sim/io/config.h"
#include "sim/io/report.h"
#include "sim/model/scenario.h"
#include "sim/study/study.h"

namespace canarysim {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The figures a case is judged and compared on.
struct Figures {
  double runs = 0;
  double false_rollback_rate = 0, missed_regression_rate = 0;
  double detection_p90 = kNaN, mitigation_p90 = kNaN, rollout_p50 = kNaN;
  // Means with the runs' standard deviation and count, for the noise bound.
  double detection_mean = kNaN, detection_sd = kNaN, detection_n = 0;
  double blast_mean = kNaN, blast_sd = kNaN, blast_n = 0;
};

void mean_sd(const std::vector<double>& v, double& mean, double& sd, double& n) {
  n = static_cast<double>(v.size());
  if (v.empty()) return;
  double s = 0, ss = 0;
  for (double x : v) s += x, ss += x * x;
  mean = s / n;
  sd = v.size() > 1 ? std::sqrt(std::max(0.0, (ss - n * mean * mean) / (n - 1))) : 0;
}

Figures figures_of(const Study& st) {
  Figures f;
  const Summary& s = st.summary;
  f.runs = static_cast<double>(s.runs);
  f.false_rollback_rate = s.false_rollback.rate;
  f.missed_regression_rate = s.missed_regression.rate;
  f.detection_p90 = s.detection_time_s.p90;
  f.mitigation_p90 = s.time_to_mitigate_s.p90;
  f.rollout_p50 = s.rollout_duration_s.p50;
  std::vector<double> detection, blast;
  for (const RunResult& r : st.runs) {
    if (!std::isnan(r.detection_time_s)) detection.push_back(r.detection_time_s);
    if (r.regression_active) blast.push_back(static_cast<double>(r.blast_radius_requests));
  }
  mean_sd(detection, f.detection_mean, f.detection_sd, f.detection_n);
  mean_sd(blast, f.blast_mean, f.blast_sd, f.blast_n);
  return f;
}

std::string num(double x) { return json_number(x); }

double read_number(const ConfigMap& m, const char* key) {
  return m.has(key) ? m.number(key, -1e300, 1e300) : kNaN;
}

struct Budget {
  std::string key;
  double limit;
};

struct Case {
  std::string name;
  Scenario scenario;
  std::vector<Budget> budgets;
};

struct Suite {
  std::string name, baseline_path;
  StudyOptions options;
  std::vector<Case> cases;
};

// Reads the suite and every case's scenario, policy and budgets, before anything runs.
Suite parse_suite(const ConfigMap& suite, const std::string& suite_path) {
  suite.allow({"name", "runs", "seed", "baseline", "cases"});
  Suite out;
  out.name = suite.text("name", suite_path);
  out.options.runs = suite.count("runs", 300, 10, 100000000);
  out.options.seed = suite.count("seed", 1, 0, UINT64_MAX);
  out.baseline_path = suite.has("baseline") ? suite.file_path("baseline") : "";
  const auto cases = suite.maps("cases");
  if (cases.empty()) suite.fail("cases", "a list of at least one case");
  for (const ConfigMap& c : cases) {
    c.allow({"name", "scenario", "policy", "budgets"});
    Case k{c.text("name"), load_scenario(c.file_path("scenario")), {}};
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
        k.budgets.push_back({key, metric_value_at(b, key, metric)});
      }
    }
    out.cases.push_back(std::move(k));
  }
  return out;
}

}  // namespace

std::string load_check_suite(const std::string& suite_path) {
  const Suite s = parse_suite(ConfigMap::parse_file(suite_path), suite_path);
  return suite_path + ": valid check suite '" + s.name + "', " + std::to_string(s.cases.size()) + " cases x " +
         std::to_string(s.options.runs) + " runs";
}

CheckOutcome run_check(const std::string& suite_path, bool update_baseline, unsigned threads) {
  const ConfigMap suite = ConfigMap::parse_file(suite_path);
  Suite parsed = parse_suite(suite, suite_path);
  const std::string& name = parsed.name;
  StudyOptions& options = parsed.options;
  options.threads = threads;
  const std::string& baseline_path = parsed.baseline_path;

  std::map<std::string, ConfigMap> baseline;
  CheckOutcome out;
  if (!baseline_path.empty() && file_exists(baseline_path)) {
    const ConfigMap b = ConfigMap::parse_file(baseline_path);
    const ConfigMap cases = b.map("cases");
    for (const std::string& k : cases.keys()) baseline.emplace(k, cases.map(k));
    out.baseline_found = true;
  }

  std::ostringstream report, json;
  report << "canarysim check: " << name << " (" << options.runs << " runs per case, seed " << options.seed
         << ")\n";
  json << "{\n  \"canarysim_version\": " << json_string(CANARYSIM_VERSION) << ",\n  \"suite\": " << json_string(name)
       << ",\n  \"runs\": " << options.runs << ",\n  \"seed\": " << options.seed << ",\n  \"cases\": {";
  for (size_t i = 0; i < parsed.cases.size(); ++i) {
    const std::string& case_name = parsed.cases[i].name;
    const Scenario& scenario = parsed.cases[i].scenario;
    const std::vector<Budget>& budgets = parsed.cases[i].budgets;
    const Study study = run_study(scenario, options);
    const Figures f = figures_of(study);
    char line[256];
    std::snprintf(line, sizeof line,
                  "\n%s: false rollbacks %.2f %%, missed %.2f %%, detection p90 %s, blast mean %s, rollout p50 %s\n",
                  case_name.c_str(), 100 * f.false_rollback_rate, 100 * f.missed_regression_rate,
                  std::isnan(f.detection_p90) ? "-" : (num(f.detection_p90) + "s").c_str(),
                  std::isnan(f.blast_mean) ? "-" : num(std::round(f.blast_mean)).c_str(),
                  std::isnan(f.rollout_p50) ? "-" : (num(f.rollout_p50) + "s").c_str());
    report << line;
    for (const Budget& b : budgets) {
      const double v = find_summary_metric(b.key)->value(study.summary);
      // A quantity that does not apply (no detection in an A/A case) is within budget.
      const bool ok = std::isnan(v) || v <= b.limit;
      out.budgets_ok &= ok;
      std::snprintf(line, sizeof line, "  %-6s budget %-28s %12.6g (limit %.6g)\n", ok ? "ok" : "BREACH",
                    b.key.c_str(), v, b.limit);
      report << line;
    }
    // Against the baseline: flag changes beyond three standard errors of the difference.
    if (const auto it = baseline.find(case_name); it != baseline.end()) {
      const ConfigMap& old = it->second;
      auto rate_change = [&](const char* key, double now_v) {
        const double before = read_number(old, key);
        if (std::isnan(before)) return;
        const double p = std::max((before + now_v) / 2, 0.5 / f.runs);
        const double noise = 3 * std::sqrt(2 * p * (1 - p) / f.runs);
        const bool changed = std::abs(now_v - before) > noise;
        out.baseline_ok &= !changed;
        std::snprintf(line, sizeof line, "  %-6s baseline %-26s %.4f -> %.4f (noise %.4f)\n",
                      changed ? "CHANGE" : "same", key, before, now_v, noise);
        report << line;
      };
      auto mean_change = [&](const char* key, const char* sd_key, const char* n_key, double now_v, double sd,
                             double n) {
        const double before = read_number(old, key), before_sd = read_number(old, sd_key),
                     before_n = read_number(old, n_key);
        if (std::isnan(before) || std::isnan(now_v) || n < 2 || before_n < 2) return;
        const double noise = 3 * std::sqrt(sd * sd / n + before_sd * before_sd / before_n);
        const bool changed = std::abs(now_v - before) > noise;
        out.baseline_ok &= !changed;
        std::snprintf(line, sizeof line, "  %-6s baseline %-26s %.6g -> %.6g (noise %.3g)\n",
                      changed ? "CHANGE" : "same", key, before, now_v, noise);
        report << line;
      };
      rate_change("false_rollback_rate", f.false_rollback_rate);
      rate_change("missed_regression_rate", f.missed_regression_rate);
      mean_change("detection_time_mean", "detection_time_sd", "detection_count", f.detection_mean, f.detection_sd,
                  f.detection_n);
      mean_change("blast_radius_requests_mean", "blast_radius_requests_sd", "blast_count", f.blast_mean, f.blast_sd,
                  f.blast_n);
    } else if (out.baseline_found) {
      report << "  new    case, not in the baseline\n";
    }
    json << (i ? "," : "") << "\n    " << json_string(case_name) << ": {\"false_rollback_rate\": "
         << num(f.false_rollback_rate) << ", \"missed_regression_rate\": " << num(f.missed_regression_rate)
         << ", \"detection_time_mean\": " << num(f.detection_mean) << ", \"detection_time_sd\": "
         << num(f.detection_sd) << ", \"detection_count\": " << num(f.detection_n)
         << ", \"blast_radius_requests_mean\": " << num(f.blast_mean) << ", \"blast_radius_requests_sd\": "
         << num(f.blast_sd) << ", \"blast_count\": " << num(f.blast_n) << ", \"detection_time_p90\": "
         << num(f.detection_p90) << ", \"rollout_duration_p50\": " << num(f.rollout_p50) << "}";
  }
  json << "\n  }\n}\n";
  out.new_baseline = json.str();
  if (!out.baseline_found && !baseline_path.empty() && !update_baseline)
    report << "\nno baseline yet at " << baseline_path << ": run with --update-baseline to write one\n";
  if (update_baseline) {
    if (baseline_path.empty()) suite.fail("baseline", "a baseline file to write");
    std::ofstream f(baseline_path);
    if (!f) throw InputError(baseline_path + ": cannot be written");
    f << out.new_baseline;
    report << "\nwrote the baseline " << baseline_path << "\n";
    out.baseline_ok = true;
  }
  report << "\n" << (out.budgets_ok ? "budgets: all within" : "budgets: BREACHED") << "; "
         << (out.baseline_ok ? "baseline: no change beyond noise" : "baseline: CHANGED beyond noise") << "\n";
  out.report = report.str();
  return out;
}

}  // namespace canarysim
