#include "sim/io/page.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/io/config.h"
#include "sim/io/plot.h"

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

PlotSeries over_time(const std::vector<TracePoint>& trace, const std::string& name, const std::string& colour,
                     bool ttft, bool baseline = false) {
  PlotSeries s{name, {}, {}, true, true, colour, {}, {}};
  for (const TracePoint& p : trace) {
    s.x.push_back(p.time_s / 60);
    s.y.push_back(ttft ? (baseline ? p.baseline : p.canary).ttft_p50_s : 100 * p.weight);
  }
  return s;
}

}  // namespace

void write_html(std::ostream& out, const Study& study, const ReportContext& ctx, const PageInputs& page) {
  const Summary& s = study.summary;
  const std::string title = "canarysim: " + ctx.scenario + " under " + ctx.policy;
  out << "<!doctype html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n<title>" << xml_escape(title)
      << "</title>\n<style>\n"
         "body{font-family:sans-serif;margin:2em auto;max-width:1100px;color:#222}\n"
         "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}\n"
         "th:first-child,td:first-child{text-align:left}pre{background:#f6f6f6;padding:1em;overflow-x:auto}\n"
         "figure{margin:1.5em 0}figcaption{color:#555;font-size:90%}.note{color:#555}\n"
         "</style>\n</head>\n<body>\n";
  out << "<h1>" << xml_escape(title) << "</h1>\n";
  out << "<p>" << s.runs << " runs, seed " << ctx.seed << ", fidelity " << xml_escape(page.fidelity)
      << ", canarysim " << CANARYSIM_VERSION << "; " << s.promoted << " promoted, " << s.rolled_back
      << " rolled back, " << s.unfinished << " unfinished.</p>\n";

  out << "<h2>Summary</h2>\n<table id='rates'>\n<tr><th>rate</th><th>value</th><th>95 % interval</th><th>runs</th></tr>\n";
  for (const SummaryRate& r : summary_rates()) {
    const Rate& x = s.*(r.rate);
    out << "<tr><td>" << rate_label(r.name) << "</td><td>" << pct(x.rate) << "</td><td>[" << pct(x.low) << ", "
        << pct(x.high) << "]</td><td>" << x.count << " of " << x.of << "</td></tr>\n";
  }
  out << "</table>\n<table id='distributions'>\n<tr><th>per run</th><th>runs</th><th>mean</th><th>p50</th>"
         "<th>p90</th><th>p99</th></tr>\n";
  for (const SummaryStats& st : summary_stats()) {
    const Stats& x = s.*(st.stats);
    std::string name = st.name;
    std::replace(name.begin(), name.end(), '_', ' ');
    out << "<tr><td>" << name << "</td><td>" << x.count << "</td>";
    for (double v : {x.mean, x.p50, x.p90, x.p99}) out << "<td>" << shown(v, st.unit) << "</td>";
    out << "</tr>\n";
  }
  out << "</table>\n";

  out << "<h2>Figures</h2>\n";
  std::vector<double> detection, blast;
  for (const RunResult& r : study.runs) {
    if (!std::isnan(r.detection_time_s)) detection.push_back(r.detection_time_s);
    if (r.regression_active) blast.push_back(static_cast<double>(r.blast_radius_requests));
  }
  std::vector<PlotPanel> distributions;
  if (!detection.empty())
    distributions.push_back({"Detection time", "minutes after the regression's onset", "runs (%)", false,
                             {cdf(detection, 1.0 / 60, "#1f77b4")}, {}});
  if (!blast.empty())
    distributions.push_back(
        {"Blast radius", "requests served by the bad canary", "runs (%)", false, {cdf(blast, 1, "#d62728")}, {}});
  if (distributions.empty()) {
    out << "<p class='note'>No run had a regression active: no detection time or blast radius to plot.</p>\n";
  } else {
    out << "<figure class='figure'>\n" << svg_text(distributions)
        << "<figcaption>Cumulative distributions over the runs: the share of runs at or below each value.</figcaption>\n"
           "</figure>\n";
  }
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
    out << "<figure class='figure'>\n" << svg_text(runs) << "<figcaption>Two runs up close: the typical run "
        << page.typical_run << " (median decision time) and the worst, run " << page.worst_run << " ("
        << xml_escape(page.worst_why) << "), at every analysis tick.</figcaption>\n</figure>\n";
  }

  out << "<h2>What was run</h2>\n<h3>Scenario</h3>\n<pre id='scenario'>" << xml_escape(page.scenario_text)
      << "</pre>\n<h3>Policy</h3>\n<pre id='policy'>" << xml_escape(page.policy_text) << "</pre>\n";
  out << "<p class='note'>Rates: 95 % Wilson intervals over runs. Distributions: over the runs each applies to "
         "(detection: rolled back on evidence; blast radius: a regression active; rollout duration: promoted).</p>\n"
         "</body>\n</html>\n";
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
}

}  // namespace canarysim
