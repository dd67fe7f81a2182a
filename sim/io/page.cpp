#include "sim/io/page.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "sim/io/config.h"
#include "sim/io/plot.h"
#include "sim/study/check.h"
#include "sim/study/store.h"

namespace canarysim {

namespace {

std::string pct(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f %%", 100 * x);
  return buf;
}

// A figure's value for people: minutes for times, a count otherwise; "-" where it does
// not apply.
std::string shown(double x, SummaryMetric::Unit unit) {
  if (std::isnan(x)) return "-";
  if (unit == SummaryMetric::Unit::kSeconds) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f min", x / 60);
    return buf;
  }
  return format_amount(x);
}

std::string rate_label(const std::string& name) {
  std::string s = name;
  std::replace(s.begin(), s.end(), '_', ' ');
  return s + " rate";
}

// A CDF of the values (x) against the share of runs (y, %).
PlotSeries cdf(std::vector<double> v, double scale, const std::string& colour) {
  std::sort(v.begin(), v.end());
  PlotSeries s{"", {}, {}, true, false, colour, {}, {}};
  for (size_t i = 0; i < v.size(); ++i) {
    s.x.push_back(v[i] * scale);
    s.y.push_back(100.0 * static_cast<double>(i + 1) / static_cast<double>(v.size()));
  }
  return s;
}

constexpr const char* kIntervalsNote =
    "Rates: 95 % Wilson intervals over runs. Distributions: over the runs each applies to (detection: rolled back "
    "on evidence; blast radius: a regression active; rollout duration: promoted).";

PlotSeries over_time(const std::vector<TracePoint>& trace, const std::string& name, const std::string& colour,
                     bool ttft, bool baseline = false) {
  PlotSeries s{name, {}, {}, true, true, colour, {}, {}};
  for (const TracePoint& p : trace) {
    s.x.push_back(p.time_s / 60);
    s.y.push_back(ttft ? (baseline ? p.baseline : p.canary).ttft_p50_s : 100 * p.weight);
  }
  return s;
}

const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr size_t kColours = sizeof kPalette / sizeof kPalette[0];

// Every page: one document, its styles inline, no script, nothing fetched.
void begin_page(std::ostream& out, const std::string& title) {
  out << "<!doctype html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n<title>" << xml_escape(title)
      << "</title>\n<style>\n"
         "body{font-family:sans-serif;margin:2em auto;max-width:1100px;color:#222}\n"
         "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}\n"
         "th:first-child,td:first-child{text-align:left}pre{background:#f6f6f6;padding:1em;overflow-x:auto}\n"
         "figure{margin:1.5em 0}figcaption{color:#555;font-size:90%}.note{color:#555}.bad{color:#b00;font-weight:bold}\n"
         "</style>\n</head>\n<body>\n<h1>" << xml_escape(title) << "</h1>\n";
}

void end_page(std::ostream& out) { out << "</body>\n</html>\n"; }

void figure(std::ostream& out, const std::vector<PlotPanel>& panels, const std::string& caption) {
  out << "<figure class='figure'>\n" << svg_text(panels) << "<figcaption>" << xml_escape(caption)
      << "</figcaption>\n</figure>\n";
}

// A file's text under a heading, as written.
void text_block(std::ostream& out, const std::string& id, const std::string& heading, const std::string& text) {
  out << "<h3>" << xml_escape(heading) << "</h3>\n<pre id='" << id << "'>" << xml_escape(text) << "</pre>\n";
}

// A table of text cells (escaped here); the first row is the header.
void table(std::ostream& out, const std::string& id, const std::vector<std::vector<std::string>>& rows) {
  out << "<table id='" << id << "'>\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    out << "<tr>";
    for (const std::string& c : rows[i]) {
      const bool bad = c == "WORSE" || c == "BREACH" || c == "breached";
      out << (i == 0 ? "<th>" : bad ? "<td class='bad'>" : "<td>") << xml_escape(c) << (i == 0 ? "</th>" : "</td>");
    }
    out << "</tr>\n";
  }
  out << "</table>\n";
}

std::string with_interval(const Rate& r) { return pct(r.rate) + " [" + pct(r.low) + ", " + pct(r.high) + "]"; }

// The summary: every rate with its interval and runs, and every distribution that applies.
void summary_tables(std::ostream& out, const Summary& s) {
  std::vector<std::vector<std::string>> rates = {{"rate", "value", "95 % interval", "runs"}};
  for (const SummaryRate& r : summary_rates()) {
    const Rate& x = s.*(r.rate);
    rates.push_back({rate_label(r.name), pct(x.rate), "[" + pct(x.low) + ", " + pct(x.high) + "]",
                     std::to_string(x.count) + " of " + std::to_string(x.of)});
  }
  table(out, "rates", rates);
  std::vector<std::vector<std::string>> stats = {{"per run", "runs", "mean", "p50", "p90", "p99"}};
  for (const SummaryStats& st : summary_stats()) {
    const Stats& x = s.*(st.stats);
    std::string name = st.name;
    std::replace(name.begin(), name.end(), '_', ' ');
    stats.push_back({name, std::to_string(x.count)});
    for (double v : {x.mean, x.p50, x.p90, x.p99}) stats.back().push_back(shown(v, st.unit));
  }
  table(out, "distributions", stats);
}

// Detection time and blast radius over runs, one CDF per study; none when no run had a
// regression active.
std::vector<PlotPanel> outcome_cdfs(const std::vector<std::pair<std::string, const Study*>>& studies) {
  PlotPanel detection{"Detection time", "minutes after the regression's onset", "runs (%)", false, {}, {}};
  PlotPanel blast{"Blast radius", "requests served by the bad canary", "runs (%)", false, {}, {}};
  for (size_t k = 0; k < studies.size(); ++k) {
    std::vector<double> d, b;
    for (const RunResult& r : studies[k].second->runs) {
      if (!std::isnan(r.detection_time_s)) d.push_back(r.detection_time_s);
      if (r.regression_active) b.push_back(static_cast<double>(r.blast_radius_requests));
    }
    const char* colour = kPalette[k % kColours];
    if (!d.empty()) detection.series.push_back(cdf(d, 1.0 / 60, colour)), detection.series.back().name = studies[k].first;
    if (!b.empty()) blast.series.push_back(cdf(b, 1, colour)), blast.series.back().name = studies[k].first;
  }
  std::vector<PlotPanel> panels;
  if (!detection.series.empty()) panels.push_back(detection);
  if (!blast.series.empty()) panels.push_back(blast);
  return panels;
}

}  // namespace

void write_html(std::ostream& out, const Study& study, const ReportContext& ctx, const PageInputs& page) {
  const Summary& s = study.summary;
  begin_page(out, "canarysim: " + ctx.scenario + " under " + ctx.policy);
  out << "<p>" << s.runs << " runs, seed " << ctx.seed << ", fidelity " << xml_escape(page.fidelity)
      << ", canarysim " << CANARYSIM_VERSION << "; " << s.promoted << " promoted, " << s.rolled_back
      << " rolled back, " << s.unfinished << " unfinished.</p>\n";
  if (ctx.convergence)
    out << (ctx.convergence->moved() ? "<p class='bad'>Warning, fidelity check: " : "<p class='note'>Fidelity check: ")
        << xml_escape(convergence_text(*ctx.convergence)) << "</p>\n";
  out << "<h2>Summary</h2>\n";
  summary_tables(out, s);

  out << "<h2>Figures</h2>\n";
  const std::vector<PlotPanel> distributions = outcome_cdfs({{"", &study}});
  if (distributions.empty())
    out << "<p class='note'>No run had a regression active: no detection time or blast radius to plot.</p>\n";
  else
    figure(out, distributions, "Cumulative distributions over the runs: the share of runs at or below each value.");
  if (!page.typical.empty()) {
    std::vector<PlotPanel> runs = {{"Canary weight", "minutes", "weight (%)", false, {}, {}},
                                   {"Canary TTFT p50 as the policy saw it", "minutes", "seconds", false, {}, {}}};
    for (int k = 0; k < 2; ++k) {
      runs[k].series.push_back(
          over_time(page.typical, "typical: run " + std::to_string(page.typical_run), "#1f77b4", k == 1));
      if (!page.worst.empty())
        runs[k].series.push_back(over_time(page.worst, "worst: run " + std::to_string(page.worst_run), "#d62728", k == 1));
    }
    runs[1].series.push_back(over_time(page.typical, "baseline (typical run)", "#7f7f7f", true, true));
    figure(out, runs, "Two runs up close: the typical run " + std::to_string(page.typical_run) +
                          " (median decision time) and the worst, run " + std::to_string(page.worst_run) + " (" +
                          page.worst_why + "), at every analysis tick.");
  }

  out << "<h2>What was run</h2>\n";
  text_block(out, "scenario", "Scenario", page.scenario_text);
  text_block(out, "policy", "Policy", page.policy_text);
  out << "<p class='note'>" << kIntervalsNote << "</p>\n";
  end_page(out);
}

void write_markdown(std::ostream& out, const Study& study, const ReportContext& ctx) {
  const Summary& s = study.summary;
  out << "### canarysim: " << ctx.scenario << " under " << ctx.policy << "\n\n"
      << s.runs << " runs, seed " << ctx.seed << ", canarysim " << CANARYSIM_VERSION << ": " << s.promoted
      << " promoted, " << s.rolled_back << " rolled back, " << s.unfinished << " unfinished.\n\n"
      << "| rate | value | 95 % interval | runs |\n|---|---:|---|---:|\n";
  for (const SummaryRate& r : summary_rates()) {
    const Rate& x = s.*(r.rate);
    out << "| " << rate_label(r.name) << " | " << pct(x.rate) << " | [" << pct(x.low) << ", " << pct(x.high) << "] | "
        << x.count << " of " << x.of << " |\n";
  }
  out << "\n| per run | runs | mean | p50 | p90 | p99 |\n|---|---:|---:|---:|---:|---:|\n";
  for (const SummaryStats& st : summary_stats()) {
    const Stats& x = s.*(st.stats);
    if (x.count == 0) continue;
    std::string name = st.name;
    std::replace(name.begin(), name.end(), '_', ' ');
    out << "| " << name << " | " << x.count;
    for (double v : {x.mean, x.p50, x.p90, x.p99}) out << " | " << shown(v, st.unit);
    out << " |\n";
  }
  if (ctx.convergence)
    out << "\n" << (ctx.convergence->moved() ? "**Warning, fidelity check:** " : "Fidelity check: ")
        << convergence_text(*ctx.convergence) << "\n";
}


void write_comparison_html(std::ostream& out, const Comparison& c, const ReportContext& ctx,
                           const std::string& scenario_text, const std::vector<std::string>& policy_texts) {
  const uint64_t runs = c.studies.empty() ? 0 : c.studies.front().summary.runs;
  begin_page(out, "canarysim compare: " + ctx.scenario);
  out << "<p>" << c.studies.size() << " policies on the same " << runs << " runs (seed " << ctx.seed
      << ", common random numbers), canarysim " << CANARYSIM_VERSION << ".</p>\n<h2>Summary</h2>\n";
  std::vector<std::vector<std::string>> rows = {{"policy", "rolled back", "false rollback rate", "missed regression rate",
                                                 "detection p50", "detection p90", "blast radius (requests, mean)",
                                                 "blast radius (users, mean)", "rollout p50"}};
  for (size_t k = 0; k < c.studies.size(); ++k) {
    const Summary& s = c.studies[k].summary;
    rows.push_back({c.policies[k], std::to_string(s.rolled_back) + " of " + std::to_string(s.runs),
                    with_interval(s.false_rollback), with_interval(s.missed_regression),
                    shown(s.detection_time_s.p50, SummaryMetric::Unit::kSeconds),
                    shown(s.detection_time_s.p90, SummaryMetric::Unit::kSeconds),
                    shown(s.blast_radius_requests.mean, SummaryMetric::Unit::kNumber),
                    shown(s.blast_radius_users.mean, SummaryMetric::Unit::kNumber),
                    shown(s.rollout_duration_s.p50, SummaryMetric::Unit::kSeconds)});
  }
  table(out, "policies", rows);
  for (size_t k = 1; k < c.differences.size(); ++k) {
    out << "<h3>" << xml_escape(c.policies[k] + " minus " + c.policies[0]) << ", paired by run</h3>\n";
    std::vector<std::vector<std::string>> d = {{"figure", "mean difference", "95 % interval", "pairs"}};
    auto v = [](double x) { return std::isnan(x) ? std::string("-") : format_amount(x); };
    for (const PairedDifference& x : c.differences[k])
      d.push_back({x.metric, v(x.mean), "[" + v(x.low) + ", " + v(x.high) + "]", std::to_string(x.pairs)});
    table(out, "differences-" + std::to_string(k), d);
  }
  out << "<h2>Figures</h2>\n";
  std::vector<std::pair<std::string, const Study*>> studies;
  for (size_t k = 0; k < c.studies.size(); ++k) studies.push_back({c.policies[k], &c.studies[k]});
  const std::vector<PlotPanel> panels = outcome_cdfs(studies);
  if (panels.empty()) out << "<p class='note'>No run had a regression active: no detection time or blast radius to plot.</p>\n";
  else figure(out, panels, "Each policy's distributions over the same runs: the share of runs at or below each value.");
  out << "<h2>What was run</h2>\n";
  text_block(out, "scenario", "Scenario", scenario_text);
  for (size_t k = 0; k < policy_texts.size() && k < c.policies.size(); ++k)
    text_block(out, "policy-" + std::to_string(k), "Policy " + c.policies[k], policy_texts[k]);
  out << "<p class='note'>" << kIntervalsNote << " Differences: policy minus the first, run by run, with a 95 % "
      << "normal interval over the runs where the figure applies to both.</p>\n";
  end_page(out);
}

void write_check_html(std::ostream& out, const CheckOutcome& c) {
  const bool passed = c.budgets_ok && c.baseline_ok;
  begin_page(out, "canarysim check: " + c.suite + (passed ? " passed" : " FAILED"));
  out << "<p>" << c.cases.size() << " cases, seed " << c.seed << ", canarysim " << CANARYSIM_VERSION
      << ". Budgets: " << (c.budgets_ok ? "all within" : "<span class='bad'>breached</span>") << "; baseline: "
      << (!c.baseline_found ? "none yet"
          : c.baseline_ok   ? "nothing worse beyond tolerance"
                            : "<span class='bad'>worse beyond tolerance</span>")
      << (c.undecided ? "; " + std::to_string(c.undecided) + " figure(s) undecided (--runs auto would tell)" : "")
      << ".</p>\n<h2>Cases</h2>\n";
  std::vector<std::vector<std::string>> rows = {{"case", "runs", "false rollback rate", "missed regression rate",
                                                 "detection p90", "blast radius (requests, mean)", "rollout p50",
                                                 "verdict"}};
  for (const CheckCase& k : c.cases) {
    const Summary& s = k.study.summary;
    bool bad = false;
    for (const CheckCase::Budget& b : k.budgets) bad |= !b.ok;
    for (const CheckCase::Change& ch : k.changes) bad |= ch.verdict == "WORSE";
    rows.push_back({k.name, std::to_string(k.runs), with_interval(s.false_rollback), with_interval(s.missed_regression),
                    shown(s.detection_time_s.p90, SummaryMetric::Unit::kSeconds),
                    shown(s.blast_radius_requests.mean, SummaryMetric::Unit::kNumber),
                    shown(s.rollout_duration_s.p50, SummaryMetric::Unit::kSeconds), bad ? "breached" : "ok"});
  }
  table(out, "cases", rows);
  for (size_t i = 0; i < c.cases.size(); ++i) {
    const CheckCase& k = c.cases[i];
    out << "<h3>" << xml_escape(k.name) << "</h3>\n";
    if (!k.note.empty()) out << "<p class='note'>" << xml_escape(k.note) << "</p>\n";
    for (const std::string& w : k.warnings) out << "<p class='bad'>warning: " << xml_escape(w) << "</p>\n";
    if (!k.budgets.empty()) {
      std::vector<std::vector<std::string>> b = {{"budget", "value", "limit", ""}};
      for (const CheckCase::Budget& x : k.budgets)
        b.push_back({x.metric, format_metric(find_summary_metric(x.metric)->unit, x.value),
                     format_metric(find_summary_metric(x.metric)->unit, x.limit), x.ok ? "ok" : "BREACH"});
      table(out, "budgets-" + std::to_string(i), b);
    }
    if (!k.changes.empty()) {
      std::vector<std::vector<std::string>> d = {
          {"against the baseline", "mean change", "95 % interval", "tolerance", "pairs", "verdict"}};
      for (const CheckCase::Change& x : k.changes) {
        auto v = [&x](double y) {
          return std::isnan(y) ? std::string("-") : x.rate ? format_amount(100 * y) + " pt" : format_amount(y);
        };
        d.push_back({x.figure, v(x.mean), "[" + v(x.low) + ", " + v(x.high) + "]", v(x.tolerance),
                     std::to_string(x.pairs), x.verdict});
      }
      table(out, "changes-" + std::to_string(i), d);
    }
  }
  out << "<h2>Figures</h2>\n";
  std::vector<std::pair<std::string, const Study*>> studies;
  for (const CheckCase& k : c.cases) studies.push_back({k.name, &k.study});
  const std::vector<PlotPanel> panels = outcome_cdfs(studies);
  if (panels.empty()) out << "<p class='note'>No case had a regression active: no detection time or blast radius to plot.</p>\n";
  else figure(out, panels, "Each case's distributions over its runs.");
  out << "<h2>What was run</h2>\n";
  text_block(out, "suite", "Suite " + c.suite_file, c.suite_text);
  for (size_t i = 0; i < c.cases.size(); ++i) {
    text_block(out, "scenario-" + std::to_string(i), c.cases[i].name + ": scenario", c.cases[i].scenario_text);
    text_block(out, "policy-" + std::to_string(i), c.cases[i].name + ": policy", c.cases[i].policy_text);
  }
  out << "<p class='note'>" << kIntervalsNote << " Changes: this run minus the baseline, run by run, one-sided "
      << "against the tolerance (docs/sweeps.md).</p>\n";
  end_page(out);
}

namespace {

// RFC 4180 rows (quoted fields, doubled quotes); at most `most` rows after the header.
std::vector<std::vector<std::string>> read_csv(const std::string& text, size_t most, bool* cut) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  *cut = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (quoted) {
      if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
      else if (ch == '"') quoted = false;
      else field += ch;
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      rows.back().push_back(std::move(field)), field.clear();
    } else if (ch == '\n') {
      rows.back().push_back(std::move(field)), field.clear();
      if (rows.size() > most) {
        *cut = i + 1 < text.size();
        return rows;
      }
      rows.emplace_back();
    } else if (ch != '\r') {
      field += ch;
    }
  }
  if (!field.empty() || !rows.back().empty()) rows.back().push_back(field);
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

void store_page(std::ostream& out, const std::string& path) {
  const std::unique_ptr<ResultStore> store = ResultStore::open(path);
  const Manifest& m = store->manifest();
  const std::vector<std::string> labels = store->point_labels();
  begin_page(out, "canarysim sweep: " + m.name);
  out << "<p>" << labels.size() << " points x " << m.runs << " runs, seed " << m.seed << ", shard " << m.shard << " of "
      << m.shards << ", written by canarysim " << xml_escape(m.version) << " (this page: " << CANARYSIM_VERSION
      << ") from " << xml_escape(path) << ".</p>\n<h2>Points</h2>\n";
  std::vector<std::vector<std::string>> rows = {{"point", "runs", "rolled back", "false rollback rate",
                                                 "missed regression rate", "detection p50", "detection p90",
                                                 "blast radius (requests, mean)", "rollout p50"}};
  // Two trade-offs against median detection time: false rollbacks (a good release's risk)
  // and missed regressions (a bad one's). Points are numbered as in the table.
  PlotPanel false_panel{"False rollbacks against detection", "median detection time (minutes)",
                        "false rollback rate (%)", false, {}, {}};
  PlotPanel missed_panel{"Missed regressions against detection", "median detection time (minutes)",
                         "missed regression rate (%)", false, {}, {}};
  bool any_regression = false;
  for (size_t p = 0; p < labels.size(); ++p) {
    const Summary s = summarize(store->point_runs(p));
    rows.push_back({"#" + std::to_string(p) + " " + labels[p], std::to_string(s.runs),
                    s.runs ? std::to_string(s.rolled_back) + " of " + std::to_string(s.runs) : "-",
                    s.runs ? with_interval(s.false_rollback) : "-", s.runs ? with_interval(s.missed_regression) : "-",
                    shown(s.detection_time_s.p50, SummaryMetric::Unit::kSeconds),
                    shown(s.detection_time_s.p90, SummaryMetric::Unit::kSeconds),
                    shown(s.blast_radius_requests.mean, SummaryMetric::Unit::kNumber),
                    shown(s.rollout_duration_s.p50, SummaryMetric::Unit::kSeconds)});
    any_regression |= s.blast_radius_requests.count > 0;
    if (s.runs == 0 || std::isnan(s.detection_time_s.p50)) continue;
    // One series a point while colours tell them apart; beyond, one colour for all.
    const std::string name = labels.size() <= kColours ? "#" + std::to_string(p) : "";
    const char* colour = kPalette[labels.size() <= kColours ? p : 0];
    for (auto [panel, rate] : {std::pair{&false_panel, &s.false_rollback}, std::pair{&missed_panel, &s.missed_regression}}) {
      if (panel->series.empty() || !name.empty()) panel->series.push_back(PlotSeries{name, {}, {}, false, true, colour, {}, {}});
      PlotSeries& series = panel->series.back();
      series.x.push_back(s.detection_time_s.p50 / 60);
      series.y.push_back(100 * rate->rate);
      series.y_low.push_back(100 * rate->low);
      series.y_high.push_back(100 * rate->high);
    }
  }
  table(out, "points", rows);
  out << "<h2>Figures</h2>\n";
  if (false_panel.series.empty()) {
    out << "<p class='note'>No point detected a regression: no trade-off to plot.</p>\n";
  } else {
    std::vector<PlotPanel> panels = {false_panel};
    if (any_regression) panels.push_back(missed_panel);
    figure(out, panels, "Each point (numbered as in the table) at its median detection time, with its rates and "
                        "their 95 % Wilson intervals, over the runs stored.");
  }
  out << "<h2>What was run</h2>\n";
  if (!m.command_line.empty()) out << "<p><code>" << xml_escape(m.command_line) << "</code></p>\n";
  text_block(out, "sweep", "Sweep " + m.sweep_file, m.sweep_text);
  text_block(out, "scenario", "Scenario", m.scenario_text);
  if (!m.policy_text.empty()) text_block(out, "policy", "Policy", m.policy_text);
  out << "<p class='note'>" << kIntervalsNote << "</p>\n";
  end_page(out);
}

// A tune or power folder: its summary, its figures and its tables, as written.
void folder_page(std::ostream& out, const std::string& dir, const char* kind, const std::vector<std::string>& csvs,
                 const std::vector<std::string>& svgs) {
  const auto text = [&dir](const std::string& name) {
    const std::string path = dir + "/" + name;
    return file_exists(path) ? read_text_file(path, 64u << 20, "a results file") : std::string();
  };
  const std::string summary = text("summary.txt");
  begin_page(out, std::string("canarysim ") + kind + ": " + std::filesystem::path(dir).filename().string());
  out << "<p>The " << kind << " folder " << xml_escape(dir) << ", as canarysim wrote it (this page: canarysim "
      << CANARYSIM_VERSION << ").</p>\n";
  if (!summary.empty()) text_block(out, "summary", "Summary", summary);
  out << "<h2>Figures</h2>\n";
  for (const std::string& name : svgs) {
    const std::string svg = text(name);
    // Only figures canarysim drew go inline: an SVG that could run code or fetch stays out.
    if (svg.rfind("<svg", 0) != 0 || svg.find("<script") != std::string::npos ||
        svg.find("href") != std::string::npos || svg.find("<foreignObject") != std::string::npos) {
      out << "<p class='note'>" << xml_escape(name) << " is missing or not a figure canarysim drew; left out.</p>\n";
      continue;
    }
    out << "<figure class='figure'>\n" << svg << "<figcaption>" << xml_escape(name) << "</figcaption>\n</figure>\n";
  }
  for (const std::string& name : csvs) {
    bool cut = false;
    const std::vector<std::vector<std::string>> rows = read_csv(text(name), 500, &cut);
    out << "<h2>" << xml_escape(name) << "</h2>\n";
    if (rows.empty()) {
      out << "<p class='note'>missing or empty</p>\n";
      continue;
    }
    table(out, std::filesystem::path(name).stem().string(), rows);
    if (cut) out << "<p class='note'>The first 500 rows; the file has them all.</p>\n";
  }
  const std::string input = text("input.yaml");
  if (!input.empty()) {
    out << "<h2>What was run</h2>\n";
    text_block(out, "input", std::string("The ") + kind + " file", input);
    // The scenario and policy files it names, as they were when it ran.
    for (int i = 1;; ++i) {
      const std::string named = text("input-" + std::to_string(i) + ".yaml");
      if (named.empty()) break;
      const size_t eol = named.find('\n');
      const std::string title = named.rfind("# ", 0) == 0 && eol != std::string::npos ? named.substr(2, eol - 2) : "";
      text_block(out, "input-" + std::to_string(i), title.empty() ? "A file it names" : title,
                 title.empty() ? named : named.substr(eol + 1));
    }
  }
  end_page(out);
}

}  // namespace

std::string saved_results_kind(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    const bool power = file_exists(path + "/power.csv"), tune = file_exists(path + "/candidates.csv");
    if (power && tune)  // which page it wants cannot be told: say so rather than pick one
      throw InputError(path + ": holds both power.csv and candidates.csv; expected the folder of one `canarysim "
                              "power` or one `canarysim tune` (give each its own --out)");
    if (power) return "power";
    if (tune) return "tune";
    throw InputError(path + ": a folder without power.csv or candidates.csv; expected a sweep store (.db), or the "
                            "folder `canarysim tune` or `canarysim power` wrote");
  }
  if (!file_exists(path)) throw MissingFileError(path + ": no such file");
  return "sweep";
}

void write_saved_report(std::ostream& out, const std::string& path) {
  const std::string kind = saved_results_kind(path);
  if (kind == "power") folder_page(out, path, "power study", {"power.csv"}, {"power.svg"});
  else if (kind == "tune") folder_page(out, path, "tuning", {"pareto.csv", "candidates.csv"}, {"pareto.svg"});
  else store_page(out, path);
}

}  // namespace canarysim
