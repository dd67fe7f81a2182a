#include "sim/study/tune.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <sstream>

#include "sim/io/config.h"
#include "sim/io/schema.h"
#include "sim/io/plot.h"
#include "sim/model/random.h"
#include "sim/io/report.h"
#include "sim/study/sweep.h"

namespace canarysim {

namespace {

using Unit = SummaryMetric::Unit;

// The objective or a constraint named under `key`.
const SummaryMetric& metric_named(const ConfigMap& m, const std::string& key, const std::string& name) {
  std::string all;
  for (const SummaryMetric& x : summary_metrics()) all += (all.empty() ? "" : ", ") + x.name;
  return summary_metric_at(m, key, name, "metric", "one of: " + all);
}

// A distribution-free 95% interval for the q-quantile of `v` (order statistics).
std::pair<double, double> quantile_interval(std::vector<double> v, double q) {
  if (v.empty()) return {RunResult::kNaN, RunResult::kNaN};
  std::sort(v.begin(), v.end());
  const double n = static_cast<double>(v.size()), half = 1.96 * std::sqrt(n * q * (1 - q));
  const auto at = [&](double k) { return v[static_cast<size_t>(std::clamp(k, 0.0, n - 1))]; };
  return {at(std::floor(n * q - half) - 1), at(std::ceil(n * q + half) - 1)};
}

struct Scoring {
  std::vector<const SummaryMetric*> metrics;  // objective first
  std::vector<double> limits;
  std::vector<double> weights;
  bool confident = false;

  // The weighted mean over the scenarios where `f` applies; NaN where it applies to none.
  double mix(const std::vector<Summary>& per, const std::function<double(const Summary&)>& f) const {
    double sum = 0, weight = 0;
    for (size_t s = 0; s < per.size(); ++s) {
      const double v = f(per[s]);
      if (!std::isnan(v)) sum += weights[s] * v, weight += weights[s];
    }
    return weight > 0 ? sum / weight : RunResult::kNaN;
  }

  void score(TuneCandidate& c) const {
    std::vector<Summary> per;
    for (const auto& runs : c.results) per.push_back(summarize(runs));
    c.metrics.assign(metrics.size(), RunResult::kNaN);
    c.uppers.assign(metrics.size(), RunResult::kNaN);
    for (size_t j = 0; j < metrics.size(); ++j) {
      c.metrics[j] = mix(per, metrics[j]->value);
      // The mix of upper bounds bounds the mix: conservative, as each term is.
      if (metrics[j]->upper) c.uppers[j] = mix(per, metrics[j]->upper);
    }
    c.violation = 0;
    for (size_t k = 0; k < limits.size(); ++k) {
      const double v = confident && !std::isnan(c.uppers[k + 1]) ? c.uppers[k + 1] : c.metrics[k + 1];
      // A constraint on a figure that does not apply (nothing promoted) is not met.
      if (std::isnan(v)) c.violation += 1;
      else if (v > limits[k]) c.violation += (v - limits[k]) / std::max(std::abs(limits[k]), 1e-12);
    }
    c.feasible = c.violation == 0;
  }
  // Feasible before infeasible; then the objective, or the violation; then the index.
  bool better(const TuneCandidate& a, size_t ia, const TuneCandidate& b, size_t ib) const {
    if (a.feasible != b.feasible) return a.feasible;
    const double ka = a.feasible ? a.metrics[0] : a.violation, kb = b.feasible ? b.metrics[0] : b.violation;
    const double xa = std::isnan(ka) ? INFINITY : ka, xb = std::isnan(kb) ? INFINITY : kb;
    if (xa != xb) return xa < xb;
    return ia < ib;
  }
};

}  // namespace

namespace {
using namespace schema;
const Section kTune{"tune", "(top level)", "A tuning: a policy's parameters searched (successive halving) for the best objective over a weighted mix of scenarios, under constraints.", {
    {"name", kText, "the file's name", "", "the tuning's name"},
    {"description", kText, "(none)", "", "free text for people"},
    {"policy", kFile, "", "", "the policy to tune"},
    {"parameters", kMap, "", "", "PATH: a range (as a sweep's random fields) for each parameter"},
    {"scenarios", kList, "", "", "the mix: section scenarios[]"},
    {"objective", kText, "", "a summary metric", "what to minimise (false_rollback_rate, blast_radius_requests_mean ...)"},
    {"constraints", kMap, "(none)", "", "METRIC: limit, each at most"},
    {"confidence", kText, "(none)", "", "constraints met at the upper end of a 95 % interval, not the estimate"},
    {"search", kMap, "the defaults of section search", "", "section search"},
    {"seed", kCount, "1", "[0, 2^64)", "seed of every study"},
}};
const Section kTuneScenario{"tune", "scenarios[]", "One scenario of the mix.", {
    {"name", kText, "the file's name and its set", "", "its label"},
    {"scenario", kFile, "", "", "the scenario"},
    {"weight", kNumber, "1", "[0, 10^9]", "its weight in the mix"},
    {"set", kMap, "(none)", "", "PATH: value overrides of the scenario"},
}};
const Section kSearch{"tune", "search", "Successive halving: many candidates on few runs, the best on more.", {
    {"candidates", kCount, "27", "[1, 10^5]", "candidates drawn"},
    {"min_runs", kCount, "40", "[2, 10^7]", "runs per scenario in the first round"},
    {"max_runs", kCount, "360 (at least min_runs)", "[2, 10^8]", "runs per scenario in the last round"},
    {"eta", kCount, "3", "[2, 1000]", "each round keeps 1 in eta, with eta times the runs"},
    {"seed", kCount, "1", "[0, 2^64)", "seed of the draws"},
}};
}  // namespace

const std::vector<std::string>& tune_keys() {
  static const std::vector<std::string> keys = kTune.keys();
  return keys;
}

TuneResult run_tune(const std::string& path, const TuneOptions& options) {
  const ConfigMap m = ConfigMap::parse_file(path);
  m.allow(kTune);
  TuneResult t;
  t.name = m.text("name", std::filesystem::path(path).stem().string());
  const std::string policy_file = m.file_path("policy");
  const ConfigMap params = m.map("parameters");
  t.parameters = params.keys();
  if (t.parameters.empty()) m.fail("parameters", "at least one policy field to tune");
  std::vector<FieldSampler> samplers;
  for (const std::string& p : t.parameters) samplers.emplace_back(params, p);

  std::vector<Variants> bases;
  std::vector<Scenario> built;  // each scenario with its `set`, built once: candidates change only the policy
  const std::vector<ConfigMap> entries = m.maps("scenarios");
  if (entries.empty()) m.fail("scenarios", "a list of {scenario, weight, set} entries");
  for (const ConfigMap& e : entries) {
    e.allow(kTuneScenario);
    bases.emplace_back(e.file_path("scenario"), policy_file);
    t.weights.push_back(e.number("weight", 1, 0, 1e9));
    if (!(t.weights.back() > 0)) e.fail("weight", "a weight above 0");
    std::vector<ConfigMap::Override> set;
    std::string label = std::filesystem::path(e.text("scenario")).stem().string();
    if (e.has("set")) {
      const ConfigMap s = e.map("set");
      for (const std::string& k : s.keys()) {
        set.emplace_back("scenario." + k, s.yaml(k));
        label += " " + k + "=" + s.yaml(k);  // the path as written: two fields never read alike
      }
    }
    try {
      built.push_back(bases.back().make(set));
    } catch (const InputError& err) {
      e.reject(e.has("set") ? "set" : "scenario", err.what());
    }
    t.scenario_labels.push_back(e.text("name", label));
  }

  Scoring scoring;
  scoring.weights = t.weights;
  scoring.metrics.push_back(&metric_named(m, "objective", m.text("objective")));
  if (m.has("constraints")) {
    const ConfigMap c = m.map("constraints");
    for (const std::string& k : c.keys()) {
      const SummaryMetric& metric = metric_named(c, k, k);
      scoring.metrics.push_back(&metric);
      scoring.limits.push_back(metric_value_at(c, k, metric));
    }
  }
  if (m.has("confidence")) {
    const std::string c = m.text("confidence");
    if (c != "95%" && c != "estimate") m.fail("confidence", "95% (rate constraints on their upper bounds) or estimate");
    scoring.confident = t.confident = c == "95%";
  }
  for (const SummaryMetric* x : scoring.metrics) t.metric_names.push_back(x->name);
  t.limits = scoring.limits;

  const ConfigMap search = m.has("search") ? m.map("search") : ConfigMap::parse_string("{}", m.file());
  search.allow(kSearch);
  const uint64_t n_candidates = search.count("candidates", 27, 1, 100000);
  const uint64_t min_runs = search.count("min_runs", 40, 2, 10000000);
  const uint64_t max_runs = search.count("max_runs", std::max<uint64_t>(min_runs, 360), 2, 100000000);
  if (max_runs < min_runs) search.fail("max_runs", "at least min_runs");
  const uint64_t eta = search.count("eta", 3, 2, 1000);
  const uint64_t seed = m.count("seed", 1, 0, UINT64_MAX);

  // Candidates: the policy as written, then random draws.
  Rng rng(search.count("seed", 1, 0, UINT64_MAX), 0, Stream::kSamples);
  std::vector<std::vector<Scenario>> scenarios;  // [candidate][scenario]
  for (uint64_t i = 0; i < n_candidates; ++i) {
    TuneCandidate c;
    std::vector<ConfigMap::Override> overrides;
    for (size_t k = 0; k < samplers.size(); ++k) {
      c.values.push_back(i == 0 ? bases[0].policy_value(t.parameters[k]).value_or("(default)")
                                : samplers[k].draw(rng));
      if (i) overrides.emplace_back("policy." + t.parameters[k], c.values.back());
    }
    scenarios.emplace_back();
    for (size_t s = 0; s < bases.size(); ++s) {
      try {
        scenarios.back().push_back(bases[s].with_policy(built[s], overrides));
      } catch (const InputError& e) {
        std::string label;
        for (size_t k = 0; k < c.values.size(); ++k) label += (k ? ", " : "") + t.parameters[k] + "=" + c.values[k];
        m.reject("parameters", "candidate " + std::to_string(i) + " (" + label + "): " + e.what());
      }
    }
    c.results.resize(bases.size());
    t.candidates.push_back(std::move(c));
  }
  for (size_t s = 0; s < bases.size(); ++s) {
    std::vector<ScenarioVariant> variants;
    for (size_t i = 0; i < t.candidates.size(); ++i) {
      std::string label;
      for (size_t k = 0; k < t.parameters.size(); ++k)
        label += (k ? ", " : "") + t.parameters[k] + "=" + t.candidates[i].values[k];
      variants.push_back({label, &scenarios[i][s]});
    }
    for (const std::string& w : grouped_warnings(variants, "candidates"))
      t.warnings.push_back("scenario " + t.scenario_labels[s] + ": " + w);
  }

  if (options.validate_only) return t;

  // The rungs of successive halving.
  for (uint64_t n = n_candidates, r = min_runs;; n = (n + eta - 1) / eta, r = std::min(max_runs, r * eta)) {
    t.rungs.emplace_back(n, r);
    if (r >= max_runs) break;
  }
  uint64_t planned = 0, done = 0;
  for (size_t k = 0; k < t.rungs.size(); ++k)
    planned += (t.rungs[k].first + (k ? 1 : 0)) * (t.rungs[k].second - (k ? t.rungs[k - 1].second : 0)) * bases.size();

  const auto start = std::chrono::steady_clock::now();
  std::vector<size_t> alive(n_candidates);
  std::iota(alive.begin(), alive.end(), 0);
  for (size_t k = 0; k < t.rungs.size(); ++k) {
    const uint64_t runs = t.rungs[k].second;
    alive.resize(std::min<size_t>(alive.size(), t.rungs[k].first));
    // The policy as written is always carried to the end, as the reference.
    std::vector<size_t> evaluate = alive;
    if (std::find(evaluate.begin(), evaluate.end(), 0) == evaluate.end()) evaluate.push_back(0);
    for (size_t c : evaluate) {
      TuneCandidate& cand = t.candidates[c];
      if (cand.runs >= runs) continue;
      // Runs cand.runs .. runs - 1: the candidate's study extended, not redrawn.
      StudyOptions more;
      more.runs = runs - cand.runs;
      more.seed = seed;
      more.first_run = cand.runs;
      more.threads = options.threads;
      for (size_t s = 0; s < scenarios[c].size(); ++s) {
        const Study st = run_study(scenarios[c][s], more);
        if (st.interrupted)
          throw Interrupted("interrupted after " + std::to_string(done) + " of " + std::to_string(planned) +
                            " runs; a tuning needs every candidate's runs, nothing written");
        cand.results[s].insert(cand.results[s].end(), st.runs.begin(), st.runs.end());
      }
      done += more.runs * scenarios[c].size();
      t.simulated_runs += more.runs * scenarios[c].size();
      cand.runs = runs;
      scoring.score(cand);
      if (options.progress) options.progress(done, planned);
    }
    std::sort(alive.begin(), alive.end(), [&](size_t a, size_t b) {
      return scoring.better(t.candidates[a], a, t.candidates[b], b);
    });
    if (k + 1 < t.rungs.size()) alive.resize(t.rungs[k + 1].first);
  }
  t.best = alive.front();
  t.found = t.candidates[t.best].feasible;
  t.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // The Pareto front over the objective and the constrained metrics (all minimised).
  auto key = [&](size_t c, size_t j) {
    const double v = t.candidates[c].metrics[j];
    return std::isnan(v) ? INFINITY : v;
  };
  for (size_t a = 0; a < t.candidates.size(); ++a) {
    bool dominated = false;
    for (size_t b = 0; b < t.candidates.size() && !dominated; ++b) {
      if (a == b) continue;
      bool no_worse = true, better = false;
      for (size_t j = 0; j < t.metric_names.size(); ++j) {
        no_worse &= key(b, j) <= key(a, j);
        better |= key(b, j) < key(a, j);
      }
      dominated = no_worse && better;
    }
    if (!dominated) t.pareto.push_back(a);
  }
  std::sort(t.pareto.begin(), t.pareto.end(), [&](size_t a, size_t b) { return key(a, 0) < key(b, 0) || (key(a, 0) == key(b, 0) && a < b); });
  return t;
}

namespace {

std::string values_label(const TuneResult& t, size_t c) {
  std::string s;
  for (size_t k = 0; k < t.parameters.size(); ++k)
    s += (k ? ", " : "") + t.parameters[k] + "=" + t.candidates[c].values[k];
  return s;
}

Unit unit_of(const std::string& metric) { return find_summary_metric(metric)->unit; }

}  // namespace

std::string tune_report(const TuneResult& t) {
  std::ostringstream out;
  char line[512];
  out << "canarysim tune: " << t.name << "\n";
  out << "objective: minimise " << t.metric_names[0];
  for (size_t k = 0; k < t.limits.size(); ++k)
    out << (k ? ", " : "; subject to ") << t.metric_names[k + 1] << " <= " << format_metric(unit_of(t.metric_names[k + 1]), t.limits[k]);
  out << "\nmix:";
  for (size_t s = 0; s < t.scenario_labels.size(); ++s)
    out << (s ? "," : "") << " " << t.scenario_labels[s] << " (weight " << t.weights[s] << ")";
  for (const std::string& w : t.warnings) out << "\nwarning: " << w;
  out << "\nsuccessive halving:";
  for (size_t k = 0; k < t.rungs.size(); ++k)
    out << (k ? "," : "") << " " << t.rungs[k].first << " x " << t.rungs[k].second << " runs";
  std::snprintf(line, sizeof line, "\n%llu simulated runs in %.1f s (%.0f runs/s)\n\n",
                static_cast<unsigned long long>(t.simulated_runs), t.wall_s, t.simulated_runs / std::max(t.wall_s, 1e-9));
  out << line;

  const TuneCandidate& best = t.candidates[t.best];
  const TuneCandidate& base = t.candidates[0];
  out << (t.found ? "chosen: candidate " : "no candidate met every constraint; the closest: candidate ") << t.best
      << (t.best == 0 ? " (the policy as written)" : "") << "\n";
  for (size_t k = 0; k < t.parameters.size(); ++k) out << "  " << t.parameters[k] << ": " << best.values[k] << "\n";
  std::snprintf(line, sizeof line, "\n%-30s %14s %16s %14s %12s\n",
                ("mix, " + std::to_string(best.runs) + " runs each").c_str(), "chosen", "chosen, 95% up", "as written",
                t.confident ? "limit (up)" : "limit");
  out << line;
  for (size_t j = 0; j < t.metric_names.size(); ++j) {
    const Unit u = unit_of(t.metric_names[j]);
    std::snprintf(line, sizeof line, "%-30s %14s %16s %14s %12s\n", t.metric_names[j].c_str(),
                  format_metric(u, best.metrics[j]).c_str(), format_metric(u, best.uppers[j]).c_str(), format_metric(u, base.metrics[j]).c_str(),
                  j ? format_metric(u, t.limits[j - 1]).c_str() : "(minimised)");
    out << line;
  }

  out << "\nchosen, per scenario (95% intervals):\n";
  std::snprintf(line, sizeof line, "%-34s %-24s %-24s %-22s %-24s %-22s\n", "scenario", "false rollbacks",
                "missed regressions", "detection p50", "blast radius mean", "rollout p50");
  out << line;
  for (size_t s = 0; s < t.scenario_labels.size(); ++s) {
    const auto& runs = best.results[s];
    const Summary sum = summarize(runs);
    std::vector<double> detection, blast, rollout;
    for (const RunResult& r : runs) {
      if (!std::isnan(r.detection_time_s)) detection.push_back(r.detection_time_s);
      if (r.regression_active) blast.push_back(static_cast<double>(r.blast_radius_requests));
      if (r.outcome == Outcome::kPromoted) rollout.push_back(r.rollout_duration_s);
    }
    auto interval = [](Unit u, double mid, std::pair<double, double> ci) {
      if (std::isnan(mid)) return std::string("-");
      return format_metric(u, mid) + " [" + format_metric(u, ci.first) + ", " + format_metric(u, ci.second) + "]";
    };
    std::string blast_text = "-";
    if (!blast.empty()) {
      const double mean = std::accumulate(blast.begin(), blast.end(), 0.0) / blast.size();
      double ss = 0;
      for (double x : blast) ss += (x - mean) * (x - mean);
      const double se = blast.size() > 1 ? std::sqrt(ss / (blast.size() - 1) / blast.size()) : 0;
      blast_text = interval(Unit::kNumber, mean, {std::max(0.0, mean - 1.96 * se), mean + 1.96 * se});
    }
    std::snprintf(line, sizeof line, "%-34s %-24s %-24s %-22s %-24s %-22s\n", t.scenario_labels[s].c_str(),
                  interval(Unit::kRate, sum.false_rollback.rate, {sum.false_rollback.low, sum.false_rollback.high}).c_str(),
                  interval(Unit::kRate, sum.missed_regression.rate, {sum.missed_regression.low, sum.missed_regression.high}).c_str(),
                  interval(Unit::kSeconds, sum.detection_time_s.p50, quantile_interval(detection, 0.5)).c_str(),
                  blast_text.c_str(),
                  interval(Unit::kSeconds, sum.rollout_duration_s.p50, quantile_interval(rollout, 0.5)).c_str());
    out << line;
  }

  out << "\nPareto front (" << t.pareto.size() << " of " << t.candidates.size() << " candidates; runs: per scenario)\n";
  std::snprintf(line, sizeof line, "%5s %5s %4s", "cand", "runs", "ok");
  out << line;
  for (const std::string& n : t.metric_names) {
    std::snprintf(line, sizeof line, " %22s", n.c_str());
    out << line;
  }
  out << "  parameters\n";
  for (size_t c : t.pareto) {
    const TuneCandidate& x = t.candidates[c];
    std::snprintf(line, sizeof line, "%5zu %5llu %4s", c, static_cast<unsigned long long>(x.runs), x.feasible ? "yes" : "no");
    out << line;
    for (size_t j = 0; j < t.metric_names.size(); ++j) {
      std::snprintf(line, sizeof line, " %22s", format_metric(unit_of(t.metric_names[j]), x.metrics[j]).c_str());
      out << line;
    }
    out << "  " << values_label(t, c) << "\n";
  }
  return out.str();
}

std::string tune_csv(const TuneResult& t, bool pareto_only) {
  std::ostringstream out;
  out << "candidate,runs,feasible,pareto,chosen";
  for (const std::string& p : t.parameters) out << "," << p;
  for (const std::string& m : t.metric_names) out << "," << m;
  for (const std::string& m : t.metric_names)
    if (find_summary_metric(m)->upper) out << "," << m << "_upper95";
  out << "\n";
  std::vector<size_t> which = t.pareto;
  if (!pareto_only) {
    which.resize(t.candidates.size());
    std::iota(which.begin(), which.end(), 0);
  }
  for (size_t c : which) {
    const TuneCandidate& x = t.candidates[c];
    const bool front = std::find(t.pareto.begin(), t.pareto.end(), c) != t.pareto.end();
    out << c << "," << x.runs << "," << x.feasible << "," << front << "," << (c == t.best);
    for (const std::string& v : x.values) out << "," << csv_quote(v);
    for (double v : x.metrics) out << "," << csv_number(v);
    for (size_t j = 0; j < t.metric_names.size(); ++j)
      if (find_summary_metric(t.metric_names[j])->upper) out << "," << csv_number(x.uppers[j]);
    out << "\n";
  }
  return out.str();
}

void write_tune_files(const TuneResult& t, const std::string& dir) {
  make_folder(dir);
  for (const auto& [name, pareto_only] : {std::pair{"candidates.csv", false}, std::pair{"pareto.csv", true}}) {
    std::ofstream out(std::filesystem::path(dir) / name);
    if (!out) throw InputError(dir + "/" + name + ": cannot be written");
    out << tune_csv(t, pareto_only);
  }

  // One panel per constraint: the objective against that constraint's metric.
  auto scaled = [](Unit u, double v) { return u == Unit::kRate ? 100 * v : u == Unit::kSeconds ? v / 60 : v; };
  auto axis = [](const std::string& name, Unit u) {
    return name + (u == Unit::kRate ? " (%)" : u == Unit::kSeconds ? " (min)" : "");
  };
  const Unit ou = unit_of(t.metric_names[0]);
  std::vector<PlotPanel> panels;
  for (size_t j = 1; j < t.metric_names.size() || panels.empty(); ++j) {
    const size_t yj = j < t.metric_names.size() ? j : 0;
    const Unit yu = unit_of(t.metric_names[yj]);
    PlotPanel p;
    p.title = t.name + ": " + std::to_string(t.candidates.size()) + " candidates";
    p.x_label = axis(t.metric_names[0], ou);
    p.y_label = axis(t.metric_names[yj], yu);
    if (yj) p.y_lines.push_back(scaled(yu, t.limits[yj - 1]));
    PlotSeries others{"candidates", {}, {}, false, true, "#bbbbbb", {}, {}};
    // A line joins the front only where it is two-dimensional (one constraint).
    PlotSeries front{"Pareto front", {}, {}, t.metric_names.size() == 2, true, "#1f77b4", {}, {}};
    PlotSeries chosen{"chosen", {}, {}, false, true, "#d62728", {}, {}};
    PlotSeries written{"as written", {}, {}, false, true, "#ff7f0e", {}, {}};
    for (size_t c = 0; c < t.candidates.size(); ++c) {
      const double x = scaled(ou, t.candidates[c].metrics[0]), y = scaled(yu, t.candidates[c].metrics[yj]);
      others.x.push_back(x), others.y.push_back(y);
      if (c == t.best) chosen.x.push_back(x), chosen.y.push_back(y);
      if (c == 0) written.x.push_back(x), written.y.push_back(y);
    }
    for (size_t c : t.pareto)
      front.x.push_back(scaled(ou, t.candidates[c].metrics[0])), front.y.push_back(scaled(yu, t.candidates[c].metrics[yj]));
    p.series = {others, front, written, chosen};
    panels.push_back(std::move(p));
  }
  write_svg((std::filesystem::path(dir) / "pareto.svg").string(), panels);
}

}  // namespace canarysim
