// Writing a study's results: a table for people, JSON and CSV for programs.
// JSON keys are snake_case and named as the fields of RunResult and Summary; a quantity
// that does not apply (NaN) is null in JSON and empty in CSV.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "sim/study/compare.h"
#include "sim/study/convergence.h"
#include "sim/study/study.h"

namespace canarysim {

struct ReportContext {
  std::string scenario, policy;
  uint64_t seed = 1;
  std::vector<std::string> segments;  // traffic segment names, for per-segment figures
  // A scaled study's convergence check, when one ran: a line in the table and markdown,
  // "fidelity_check" in JSON.
  const Convergence* convergence = nullptr;
};

// The check in one line: "20 runs at 1 in 26 agree with the study at 1 in 104 (...)", or
// the figures that moved and the fidelity to run instead (--fidelity scaled:K, 4x the
// replicas, or exact).
std::string convergence_text(const Convergence& c);
// The check as a JSON object: samples, runs, moved, and each figure at both samples.
std::string convergence_json(const Convergence& c);

void write_table(std::ostream& out, const Study& study, const ReportContext& context);
// The summary, and the per-run rows under "run_results" when `with_runs`.
void write_json(std::ostream& out, const Study& study, const ReportContext& context,
                bool with_runs);
// One row per run, with a header.
void write_csv(std::ostream& out, const Study& study);

// One run's timeline (see TracePoint): a table, or CSV with one row per point.
void write_timeline_table(std::ostream& out, const std::vector<TracePoint>& trace);
void write_timeline_csv(std::ostream& out, const std::vector<TracePoint>& trace);

// `canarysim compare`: each policy's outcomes (rollbacks, false rollbacks, missed
// regressions, detection p50, blast radius in requests and users, rollout p50) and each
// policy's paired differences with the first, as a table ("-" where a figure does not
// apply), JSON (null there) or CSV (one row per difference; empty there).
void write_comparison(std::ostream& out, const Comparison& comparison, const ReportContext& context,
                      uint64_t runs, const std::string& format);

// The per-segment blast radius as a JSON list of objects.
std::string segments_json(const ReportContext& context, const Summary& summary);

// A JSON number, exact to double precision; NaN (a quantity that does not apply) is null.
std::string json_number(double x);

// A duration for study reports: whole seconds under two minutes, else minutes to one
// decimal ("45s", "3.5m"); "-" for NaN.
std::string short_duration(double seconds);

// A summary metric's value as people read it: 0.40%, 3.5m, 1234; "-" for NaN.
std::string format_metric(SummaryMetric::Unit unit, double value);

// A CSV field in double quotes, with quotes inside doubled (RFC 4180).
std::string csv_quote(const std::string& s);
// A CSV number as json_number writes it; empty for NaN (a quantity that does not apply).
std::string csv_number(double x);

// JSON string literal with escapes.
std::string json_string(const std::string& s);

}  // namespace canarysim
