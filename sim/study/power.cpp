#include "sim/study/power.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/io/config.h"
#include "sim/io/schema.h"
#include "sim/io/plot.h"
#include "sim/io/report.h"
#include "sim/study/sweep.h"

namespace canarysim {

namespace {

Rate caught_of(const std::vector<RunResult>& runs) {
  uint64_t caught = 0;
  for (const RunResult& r : runs) caught += r.outcome == Outcome::kRolledBack && !std::isnan(r.detection_time_s);
  return wilson(caught, runs.size());
}

}  // namespace

namespace {
using namespace schema;
const Section kPower{"power", "(top level)", "A power study: the smallest regression a policy catches in a target share of runs, and its power curve.", {
    {"name", kText, "the file's name", "", "the study's name"},
    {"description", kText, "(none)", "", "free text for people"},
    {"scenario", kFile, "", "", "the scenario, relative to this file"},
    {"policy", kFile, "the scenario's", "", "the policy"},
    {"field", kText, "", "a path into the scenario", "the regression's size, e.g. regressions[0].error_rate"},
    {"sizes", kAny, "", "ascending", "the sizes to run, as that field is written (0.5%, 2m ...)"},
    {"target", kFraction, "90%", "[0, 1]", "share of runs that must catch the regression"},
    {"runs", kCount, "300", "[10, 10^8]", "runs per size"},
    {"seed", kCount, "1", "[0, 2^64)", "seed of every size"},
    {"refine", kCount, "4", "[0, 30]", "bisection steps past the grid"},
}};
}  // namespace

const std::vector<std::string>& power_keys() {
  static const std::vector<std::string> keys = kPower.keys();
  return keys;
}

PowerResult run_power(const std::string& path, const PowerOptions& options) {
  const ConfigMap m = ConfigMap::parse_file(path);
  m.allow(kPower);
  PowerResult p;
  p.name = m.text("name", std::filesystem::path(path).stem().string());
  p.field = m.text("field");
  p.target = m.probability("target", 0.9);
  p.runs = m.count("runs", 300, 10, 100000000);
  p.seed = m.count("seed", 1, 0, UINT64_MAX);
  const uint64_t refine = m.count("refine", 4, 0, 30);
  const Variants base(m.file_path("scenario"),
                      m.has("policy") ? m.file_path("policy") : std::string());

  const std::vector<std::string> sizes = m.yaml_items("sizes");
  std::vector<Quantity> quantities;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const auto q = parse_quantity(sizes[i]);
    if (!q) m.fail_item("sizes", i, "a number, a duration like '200ms' or a percentage like '2%'");
    if (!quantities.empty() && q->unit != quantities[0].unit)
      m.fail_item("sizes", i, "a size in the same unit as the first ('" + sizes[0] + "')");
    if (!quantities.empty() && !(q->value > quantities.back().value))
      m.fail_item("sizes", i, "a size above the one before it (sizes ascend)");
    quantities.push_back(*q);
  }

  auto scenario_of = [&](const std::string& size) {
    try {
      return base.make({{"scenario." + p.field, size}});
    } catch (const InputError& e) {
      m.reject("field", "size " + size + ": " + e.what());
    }
  };
  const auto start = std::chrono::steady_clock::now();
  std::vector<Scenario> grid;
  for (const std::string& s : sizes) grid.push_back(scenario_of(s));
  std::vector<ScenarioVariant> variants;
  for (size_t i = 0; i < sizes.size(); ++i) variants.push_back({p.field + "=" + sizes[i], &grid[i]});
  p.warnings = grouped_warnings(variants, "sizes");
  if (options.validate_only) return p;
  const uint64_t planned = sizes.size() + refine;
  StudyOptions study;
  study.runs = p.runs;
  study.seed = p.seed;
  study.threads = options.threads;
  auto point = [&](const std::string& size, double value, const Scenario& s) {
    const Study st = run_study(s, study);
    if (st.interrupted)
      throw Interrupted("interrupted at size " + size + " after " + std::to_string(p.points.size()) +
                        " sizes; nothing written");
    return PowerPoint{size, value, st.summary, caught_of(st.runs)};
  };
  for (size_t i = 0; i < sizes.size(); ++i) {
    p.points.push_back(point(sizes[i], quantities[i].value, grid[i]));
    if (options.progress) options.progress(i + 1, planned);
  }
  auto first_caught = [&] {
    for (size_t i = 0; i < p.points.size(); ++i)
      if (p.points[i].caught.rate >= p.target) return static_cast<int>(i);
    return -1;
  };
  // Bisection between the last size below the target and the first at or above it.
  for (uint64_t step = 0; step < refine; ++step) {
    const int hi = first_caught();
    if (hi <= 0) break;  // none caught, or even the smallest is: nothing to narrow
    const Quantity mid{quantities[0].unit, (p.points[hi - 1].value + p.points[hi].value) / 2};
    const std::string text = format_quantity(mid);
    if (text == p.points[hi - 1].size || text == p.points[hi].size) break;  // as fine as it is written
    p.points.insert(p.points.begin() + hi, point(text, mid.value, scenario_of(text)));
    if (options.progress) options.progress(sizes.size() + step + 1, planned);
  }
  p.threshold = first_caught();
  p.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return p;
}

std::string power_report(const PowerResult& p) {
  std::ostringstream out;
  char line[256];
  out << "canarysim power: " << p.name << " (" << p.field << ", " << p.runs << " runs per size, seed " << p.seed
      << ")\n";
  for (const std::string& w : p.warnings) out << "warning: " << w << "\n";
  out << "\n";
  std::snprintf(line, sizeof line, "%-12s %-24s %9s %12s %12s %12s\n", "size", "caught (95% interval)", "false",
                "detect p50", "detect p90", "blast mean");
  out << line;
  for (const PowerPoint& x : p.points) {
    char caught[64];
    std::snprintf(caught, sizeof caught, "%5.1f%% [%.1f, %.1f]", 100 * x.caught.rate, 100 * x.caught.low,
                  100 * x.caught.high);
    std::snprintf(line, sizeof line, "%-12s %-24s %8.2f%% %12s %12s %12.0f\n", x.size.c_str(), caught,
                  100 * x.summary.false_rollback.rate, short_duration(x.summary.detection_time_s.p50).c_str(),
                  short_duration(x.summary.detection_time_s.p90).c_str(), x.summary.blast_radius_requests.mean);
    out << line;
  }
  out << "\n";
  if (p.threshold < 0) {
    out << "no size tried is caught in " << 100 * p.target << "% of runs; try larger sizes\n";
  } else {
    const PowerPoint& t = p.points[p.threshold];
    std::snprintf(line, sizeof line, "smallest size caught in %.0f%% of runs: %s (caught %.1f%%, 95%% interval %.1f-%.1f%%)",
                  100 * p.target, t.size.c_str(), 100 * t.caught.rate, 100 * t.caught.low, 100 * t.caught.high);
    out << line;
    if (p.threshold > 0) out << "; " << p.points[p.threshold - 1].size << " is not";
    out << "\n";
  }
  return out.str();
}

std::string power_csv(const PowerResult& p) {
  std::ostringstream csv;
  csv << "size,value,runs,caught,caught_rate,caught_rate_low,caught_rate_high,false_rollback_rate,detection_time_p50,"
         "detection_time_p90,blast_radius_requests_mean,threshold\n";
  for (size_t i = 0; i < p.points.size(); ++i) {
    const PowerPoint& x = p.points[i];
    csv << csv_quote(x.size) << "," << csv_number(x.value) << "," << x.caught.of << "," << x.caught.count << ","
        << csv_number(x.caught.rate) << "," << csv_number(x.caught.low) << "," << csv_number(x.caught.high) << ","
        << csv_number(x.summary.false_rollback.rate) << "," << csv_number(x.summary.detection_time_s.p50) << ","
        << csv_number(x.summary.detection_time_s.p90) << "," << csv_number(x.summary.blast_radius_requests.mean)
        << "," << (static_cast<int>(i) == p.threshold) << "\n";
  }
  return csv.str();
}

void write_power_files(const PowerResult& p, const std::string& dir) {
  make_folder(dir);
  std::ofstream csv(std::filesystem::path(dir) / "power.csv");
  if (!csv) throw InputError(dir + "/power.csv: cannot be written");
  csv << power_csv(p);
  const bool percent = !p.points.empty() && p.points[0].size.back() == '%';
  const std::string x_label = p.field + (percent ? " (%)" : "");
  auto x_of = [&](const PowerPoint& x) { return percent ? 100 * x.value : x.value; };
  PlotSeries rate{"caught", {}, {}, true, true, "#1f77b4", {}, {}};
  PlotSeries p50{"detection p50", {}, {}, true, true, "#1f77b4", {}, {}};
  PlotSeries p90{"detection p90", {}, {}, true, true, "#ff7f0e", {}, {}};
  for (const PowerPoint& x : p.points) {
    rate.x.push_back(x_of(x));
    rate.y.push_back(100 * x.caught.rate);
    rate.y_low.push_back(100 * x.caught.low);
    rate.y_high.push_back(100 * x.caught.high);
    p50.x.push_back(x_of(x));
    p50.y.push_back(x.summary.detection_time_s.p50 / 60);
    p90.x.push_back(x_of(x));
    p90.y.push_back(x.summary.detection_time_s.p90 / 60);
  }
  PlotPanel caught{p.name + ": power", x_label, "runs caught (%, 95% interval)", false, {rate}, {100 * p.target}};
  PlotPanel time{p.name + ": detection time", x_label, "detection time (min)", false, {p50, p90}, {}};
  write_svg((std::filesystem::path(dir) / "power.svg").string(), {caught, time});
}

}  // namespace canarysim
